// Everything in the jobs namespace: the namespace itself (PodSecurity `restricted`), the
// worker's Role generated from REQUIRED_PERMISSIONS, the reviewer's token-less ServiceAccount,
// and the Anthropic key Secret (beside the worker with the gateway, here without it).
import { ENV, type Permission, permissionResource, REQUIRED_PERMISSIONS } from '@kritik/core';
import { JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { jobsNamespace, labels, metadata, nameOf, releaseNamespace } from '../chart/meta.js';
import { expr, optionalYaml } from '../helm/expr.js';
import { patchSynthesized } from '../helm/patch.js';
import { onlyIf } from '../helm/template-file.js';
import { values } from '../values/definition.js';

export interface JobsNamespaceProps {
  /** Name of the worker's ServiceAccount (in the release namespace). */
  readonly workerServiceAccount: string;
}

/** PodSecurity admission labels that make the namespace enforce `restricted`. */
export const RESTRICTED_NAMESPACE_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
} as const;

/** One rule per permission, exactly as the worker declares it. */
export const roleRules = (permissions: readonly Permission[] = REQUIRED_PERMISSIONS) =>
  permissions.map((p) => ({
    apiGroups: [p.group],
    resources: [permissionResource(p)],
    verbs: [...p.verbs],
  }));

export class JobsNamespace extends Construct {
  constructor(scope: Construct, id: string, props: JobsNamespaceProps) {
    super(scope, id);
    const namespace = new kplus.Namespace(this, 'namespace', {
      metadata: {
        name: expr('include "kritik.jobsNamespace" .'),
        labels: { ...labels('reviewer'), ...RESTRICTED_NAMESPACE_LABELS },
      },
    });
    onlyIf(namespace, values.jobs.createNamespace);

    const roleName = nameOf('worker');
    new kplus.k8s.KubeRole(this, 'worker-role', {
      metadata: metadata(roleName, 'worker', jobsNamespace),
      rules: roleRules(),
    });
    new kplus.k8s.KubeRoleBinding(this, 'worker-role-binding', {
      metadata: metadata(roleName, 'worker', jobsNamespace),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: props.workerServiceAccount, namespace: releaseNamespace }],
    });

    const reviewer = new kplus.ServiceAccount(this, 'reviewer', {
      metadata: metadata(expr('include "kritik.reviewerServiceAccountName" .'), 'reviewer', jobsNamespace),
      automountToken: false,
    });
    // Workload identity (IRSA role, GKE service account) for Jobs that call the provider themselves.
    patchSynthesized(
      reviewer,
      JsonPatch.add('/metadata/annotations', optionalYaml(values.model.serviceAccountAnnotations.reviewer)),
    );

    const anthropic = new kplus.k8s.KubeSecret(this, 'anthropic', {
      metadata: metadata(nameOf('anthropic'), 'reviewer', expr('include "kritik.anthropicNamespace" . | quote')),
      type: 'Opaque',
      data: { [ENV.anthropicApiKey]: expr(`${values.anthropic.apiKey} | b64enc | quote`) },
    });
    onlyIf(anthropic, `and (not ${values.anthropic.existingSecret}) ${values.anthropic.apiKey}`);
  }
}
