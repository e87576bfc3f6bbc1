// What the worker needs to read ReviewPolicies in the release namespace and report their status:
// a Role generated from POLICY_PERMISSIONS, bound to the worker's ServiceAccount. The CRD itself
// ships in the chart's crds/ (cdk8s/src/chart/crds.ts).
import { type Permission, POLICY_PERMISSIONS, permissionResource } from '@kritik/core';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { metadata, nameOf, releaseNamespace } from '../chart/meta.js';

export interface PolicyAccessProps {
  /** Name of the worker's ServiceAccount (in the release namespace). */
  readonly workerServiceAccount: string;
}

/** One rule per permission, exactly as the worker declares it. */
export const policyRoleRules = (permissions: readonly Permission[] = POLICY_PERMISSIONS) =>
  permissions.map((p) => ({ apiGroups: [p.group], resources: [permissionResource(p)], verbs: [...p.verbs] }));

export class PolicyAccess extends Construct {
  constructor(scope: Construct, id: string, props: PolicyAccessProps) {
    super(scope, id);
    const roleName = nameOf('worker-policies');
    new kplus.k8s.KubeRole(this, 'role', {
      metadata: metadata(roleName, 'worker', releaseNamespace),
      rules: policyRoleRules(),
    });
    new kplus.k8s.KubeRoleBinding(this, 'binding', {
      metadata: metadata(roleName, 'worker', releaseNamespace),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: props.workerServiceAccount, namespace: releaseNamespace }],
    });
  }
}
