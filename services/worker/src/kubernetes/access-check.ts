// Checks, with SelfSubjectAccessReview, every verb of REQUIRED_PERMISSIONS in the jobs namespace,
// so a Role that drifted from the code shows as "not ready: missing create jobs.batch" at start
// instead of as failed reviews later.
import { describePermission, type Permission, REQUIRED_PERMISSIONS } from '@kritik/core';
import type { AccessQuestion, KubernetesClient } from './kubernetes.client.js';

/** How RBAC and our errors spell a permission: `create jobs.batch`, `get pods/log`. */
export function describeAccess(q: AccessQuestion): string {
  return describePermission(q.verb, q);
}

export function accessQuestions(permissions: readonly Permission[] = REQUIRED_PERMISSIONS): AccessQuestion[] {
  return permissions.flatMap((p) =>
    p.verbs.map((verb) => ({
      verb,
      group: p.group,
      resource: p.resource,
      ...(p.subresource ? { subresource: p.subresource } : {}),
    })),
  );
}

export interface AccessReport {
  readonly namespace: string;
  /** Denied permissions, e.g. `delete jobs.batch`; empty when everything is granted. */
  readonly missing: readonly string[];
  /** Set when the check itself failed (API unreachable). */
  readonly error?: string;
}

export async function checkAccess(
  client: KubernetesClient,
  permissions: readonly Permission[] = REQUIRED_PERMISSIONS,
): Promise<AccessReport> {
  try {
    const questions = accessQuestions(permissions);
    const answers = await Promise.all(questions.map((q) => client.mayI(q)));
    const missing = questions.filter((_, i) => !answers[i]!.allowed).map(describeAccess);
    return { namespace: client.namespace, missing };
  } catch (err) {
    return { namespace: client.namespace, missing: [], error: err instanceof Error ? err.message : String(err) };
  }
}

export const accessGranted = (report: AccessReport | undefined) =>
  report !== undefined && report.error === undefined && report.missing.length === 0;

/** What /ready and the Platform page say of the local runner's access. */
export const LOCAL_RUNNER_ACCESS = 'the local runner needs no cluster permissions';

/** One line for /ready and the logs. */
export function describeReport(report: AccessReport | undefined): string {
  if (!report) return 'permissions not checked yet';
  if (report.error) return `cannot check permissions in namespace "${report.namespace}": ${report.error}`;
  if (report.missing.length === 0) return `all permissions granted in namespace "${report.namespace}"`;
  return `missing permissions in namespace "${report.namespace}": ${report.missing.join(', ')} (grant them in the worker's Role)`;
}
