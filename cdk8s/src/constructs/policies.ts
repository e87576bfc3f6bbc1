// What the worker needs to read ReviewPolicies in the release namespace and report their status:
// a Role generated from POLICY_PERMISSIONS, bound to the worker's ServiceAccount. The CRD itself
// ships in the chart's crds/ (cdk8s/src/chart/crds.ts).
import { POLICY_PERMISSIONS } from '@kritik/core';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { metadata, nameOf, releaseNamespace } from '../chart/meta.js';
import { roleRules } from './jobs.js';

export interface PolicyAccessProps {
  /** Name of the worker's ServiceAccount (in the release namespace). */
  readonly workerServiceAccount: string;
}

export class PolicyAccess extends Construct {
  constructor(scope: Construct, id: string, props: PolicyAccessProps) {
    super(scope, id);
    const roleName = nameOf('worker-policies');
    new kplus.k8s.KubeRole(this, 'role', {
      metadata: metadata(roleName, 'worker', releaseNamespace),
      rules: roleRules(POLICY_PERMISSIONS),
    });
    new kplus.k8s.KubeRoleBinding(this, 'binding', {
      metadata: metadata(roleName, 'worker', releaseNamespace),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: props.workerServiceAccount, namespace: releaseNamespace }],
    });
  }
}
