// Chart.yaml, README.md and .helmignore of the generated chart.

import { METRICS } from '@kritik/core';
import { stringify } from 'yaml';
import type { Group, Node } from '../values/dsl.js';
import { parametersTable } from '../values/generate.js';

export interface ChartVersions {
  /** Chart version (SemVer), from cdk8s/package.json. */
  readonly version: string;
  /** Version of the Kritik images, the default image tag. */
  readonly appVersion: string;
}

/** The oldest Kubernetes the chart supports (cdk8s-plus-28 targets 1.28). */
export const KUBE_VERSION = '>=1.28.0-0';

export function chartYaml(versions: ChartVersions, header: string): string {
  const chart = {
    apiVersion: 'v2',
    name: 'kritik',
    description:
      'Self-hosted AI code review for GitHub pull requests: webhooks, a queue, and one hardened Kubernetes Job per review.',
    type: 'application',
    version: versions.version,
    appVersion: versions.appVersion,
    kubeVersion: KUBE_VERSION,
    home: 'https://github.com/kritik-dev/kritik',
    sources: ['https://github.com/kritik-dev/kritik'],
    keywords: ['code-review', 'github-app', 'anthropic', 'ai'],
    annotations: { 'kritik.dev/generated-from': 'cdk8s/' },
  };
  return `# ${header}\n${stringify(chart, { lineWidth: 0, version: '1.1' })}`;
}

export function helmignore(header: string): string {
  return [`# ${header}`, '.kube-score.yaml', '*.orig', '*.tmp', '.DS_Store', ''].join('\n');
}

export function readme(definition: Group<Record<string, Node>>, versions: ChartVersions, header: string): string {
  return `<!-- ${header} -->
# Kritik Helm chart

Kritik reviews GitHub pull requests with Anthropic's models, inside your cluster: the backend
receives GitHub App webhooks and queues reviews in Redis, the worker runs one hardened Kubernetes
Job per review in a separate namespace, and the reviewer posts one review with inline comments
and a check run.

Chart version ${versions.version}, app version ${versions.appVersion}, Kubernetes ${KUBE_VERSION.replace('-0', '')}.

## Install

\`\`\`sh
helm install kritik charts/kritik --namespace kritik --create-namespace -f my-values.yaml
\`\`\`

A quick start can put the GitHub App id and private key and the Anthropic key in values
(\`github.appId\`, \`github.privateKey\`, \`anthropic.apiKey\`); in production create the Secrets
yourself and name them in \`github.existingSecret\`, \`anthropic.existingSecret\` (in the jobs
namespace, key \`ANTHROPIC_API_KEY\`) and \`api.existingSecret\`, and set \`externalRedis\`
instead of the bundled Redis. \`ci/production-values.yaml\` is a production-like example. After
installing, the chart's notes print the webhook URL and the GitHub App settings.

## What it creates

- backend: ServiceAccount (no token), Deployment, Service, optional Ingress, optional
  HorizontalPodAutoscaler, PodDisruptionBudget.
- worker: ServiceAccount, Deployment, Service (metrics), optional HorizontalPodAutoscaler,
  PodDisruptionBudget; a Role and RoleBinding in the jobs namespace with exactly the permissions
  the worker's code declares (\`REQUIRED_PERMISSIONS\` in packages/core); a Role and RoleBinding in
  the release namespace to read ReviewPolicies and write their status (\`POLICY_PERMISSIONS\`).
- The \`ReviewPolicy\` CRD (\`crds/\`, kritik.dev/v1alpha1): helm creates it on the first install and
  never upgrades it; apply \`crds/\` with \`kubectl apply --server-side\` before an upgrade, or let Flux
  do it (\`install.crds\`/\`upgrade.crds: CreateReplace\`). See docs/gitops.md.
- jobs namespace (optional) enforcing PodSecurity \`restricted\`, the reviewer's ServiceAccount
  (no permissions, no token) and the Anthropic key Secret.
- ConfigMap with the config files (\`KRITIK_CONFIG\`) of backend and worker, the worker's
  including the review Job settings; a checksum of each rolls its pods when it changes.
- NetworkPolicies (on by default), optional bundled Redis, optional ServiceMonitor and Grafana
  dashboard (metrics: ${Object.values(METRICS)
    .map((m) => `\`${m.name}\``)
    .join(', ')}).

## Parameters

${parametersTable(definition)}`;
}
