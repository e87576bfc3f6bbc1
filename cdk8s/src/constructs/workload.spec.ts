import { ENV, LABELS } from '@kritik/core';
import type { V1Deployment, V1ObjectMeta, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { App, Testing } from 'cdk8s';
import { backendEnv, workerEnv } from '../chart/env.js';
import { renderYaml } from '../helm/render.js';
import { TemplateFile } from '../helm/template-file.js';
import { describeTokens } from '../helm/tokens.js';
import { values } from '../values/definition.js';
import { KritikWorkload } from './workload.js';

type Manifest = { kind: string; metadata: V1ObjectMeta };

function synth(component: 'backend' | 'worker'): Manifest[] {
  // Rendered in memory: unlike Testing.app(), an App never synthesized to disk leaves no temp dir.
  const file = new TemplateFile(new App(), `${component}.yaml`);
  new KritikWorkload(file, component, {
    component,
    values: values[component],
    port: component === 'backend' ? 8080 : 8081,
    env: component === 'backend' ? backendEnv() : workerEnv(),
    apiAccess: component === 'worker',
  });
  return Testing.synth(file) as Manifest[];
}

function find<T>(manifests: Manifest[], kind: string): T {
  const found = manifests.find((m) => m.kind === kind);
  if (!found) throw new Error(`no ${kind} in ${manifests.map((m) => m.kind).join(', ')}`);
  return found as T;
}

const deployment = (manifests: Manifest[]) => find<V1Deployment>(manifests, 'Deployment').spec!;
const container = (manifests: Manifest[]) => deployment(manifests).template.spec!.containers[0]!;

describe(KritikWorkload.name, () => {
  it('creates a ServiceAccount, Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget', () => {
    const sut = synth('backend');

    expect(sut.map((m) => m.kind)).toEqual([
      'ServiceAccount',
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
    ]);
  });

  it('selects pods by name, instance and component only', () => {
    const sut = describeTokens(deployment(synth('backend')).selector);

    expect(sut).toEqual({
      matchLabels: {
        [LABELS.name]: 'kritik',
        [LABELS.instance]: '{{ .Release.Name | quote }}',
        [LABELS.component]: 'backend',
      },
    });
  });

  it('serves metrics on their own port, named for the ServiceMonitor, and tells the service so', () => {
    const manifests = synth('worker');

    const sut = {
      container: container(manifests).ports?.map((p) => [p.name, p.containerPort]),
      service: find<V1Service>(manifests, 'Service').spec!.ports?.map((p) => [p.name, p.port]),
      env: (container(manifests).env ?? []).find((e) => e.name === ENV.metricsPort)?.value,
    };

    expect(sut).toEqual({
      container: [
        ['http', 8081],
        ['metrics', 9090],
      ],
      service: [
        ['http', 8081],
        ['metrics', 9090],
      ],
      env: '9090',
    });
  });

  it('selects the same pods with its Service as with its Deployment', () => {
    const manifests = synth('worker');

    const sut = find<V1Service>(manifests, 'Service').spec!.selector;

    expect(sut).toEqual(deployment(manifests).selector.matchLabels);
  });

  it('labels pods without the cdk8s construct address', () => {
    const sut = Object.keys(deployment(synth('backend')).template.metadata!.labels!);

    expect(sut.filter((key) => key.startsWith('cdk8s.io/'))).toEqual([]);
  });

  it('runs the pod as non-root with the RuntimeDefault seccomp profile', () => {
    const sut = describeTokens(deployment(synth('backend')).template.spec!.securityContext);

    expect(sut).toMatchObject({
      runAsNonRoot: true,
      runAsUser: '{{ .Values.securityContext.runAsUser }}',
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('drops every capability and keeps the root filesystem read-only', () => {
    const sut = container(synth('worker')).securityContext;

    expect(sut).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('probes liveness on /health, readiness on /ready and startup on /health', () => {
    const worker = container(synth('worker'));

    const sut = [worker.livenessProbe, worker.readinessProbe, worker.startupProbe].map((p) => [
      p?.httpGet?.path,
      p?.httpGet?.port,
    ]);

    expect(sut).toEqual([
      ['/health', 8081],
      ['/ready', 8081],
      ['/health', 8081],
    ]);
  });

  it('rolls its pods when the config file changes', () => {
    const sut = describeTokens(deployment(synth('backend')).template.metadata!.annotations);

    expect(sut).toMatchObject({ 'checksum/config': '{{ include "kritik.backendConfig" . | sha256sum | quote }}' });
  });

  it('sets replicas only when autoscaling is off', () => {
    const sut = renderYaml(find(synth('backend'), 'Deployment'));

    expect(sut).toContain(
      '  {{- if not .Values.backend.autoscaling.enabled }}\n  replicas: {{ .Values.backend.replicaCount }}\n  {{- end }}',
    );
  });

  it('gives the worker a ServiceAccount token and the backend none', () => {
    const sut = [synth('worker'), synth('backend')].map(
      (m) => find<V1ServiceAccount>(m, 'ServiceAccount').automountServiceAccountToken,
    );

    expect(sut).toEqual([true, false]);
  });

  it('never gives the worker the Anthropic key', () => {
    const sut = (container(synth('worker')).env ?? []).map((e) => e.name);

    expect(sut).not.toContain(ENV.anthropicApiKey);
  });

  it('gives the backend the GitHub App private key only when asked to', () => {
    const sut = renderYaml(find(synth('backend'), 'Deployment'));

    expect(sut).toMatch(
      /{{- if \.Values\.backend\.githubAppCredentials }}\n\s+- name: GITHUB_APP_PRIVATE_KEY\n[\s\S]*?{{- end }}/,
    );
  });
});
