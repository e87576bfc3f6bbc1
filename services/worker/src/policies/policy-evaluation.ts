// Which ReviewPolicies are in use and what each one's status should say: pure, from the objects
// the watcher holds. A policy the schema cannot fault but our checks can is Ready=False and unused.
import {
  type NamedPolicy,
  type PolicyCondition,
  policyProblems,
  type ReviewPolicyStatus,
  reviewPolicySchema,
} from '@kritik/core';

/** The parts of a ReviewPolicy object the watcher reads; the rest is the API server's. */
export interface PolicyObject {
  metadata?: { name?: string; generation?: number; resourceVersion?: string };
  spec?: unknown;
  status?: ReviewPolicyStatus;
}

export interface Evaluated {
  readonly name: string;
  /** Undefined when the policy is not used, with the reason in its condition. */
  readonly policy?: NamedPolicy;
  readonly condition: Pick<PolicyCondition, 'status' | 'reason' | 'message'>;
}

export function evaluatePolicy(object: PolicyObject): Evaluated {
  const name = object.metadata?.name ?? '';
  const parsed = reviewPolicySchema.shape.spec.safeParse(object.spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      name,
      condition: { status: 'False', reason: 'InvalidSpec', message: `spec.${issue.path.join('.')}: ${issue.message}` },
    };
  }
  const problems = policyProblems(parsed.data);
  if (problems.length > 0) {
    return { name, condition: { status: 'False', reason: 'InvalidSpec', message: problems.join('; ') } };
  }
  return {
    name,
    policy: { name, spec: parsed.data },
    condition: { status: 'True', reason: 'Applied', message: 'applied to the reviews of the repositories it selects' },
  };
}

/**
 * The status a policy should have, or undefined when it has it already: rewriting an unchanged
 * status would wake every watcher (this one included) for nothing.
 */
export function nextStatus(
  object: PolicyObject,
  evaluated: Evaluated,
  matchedRepositories: number,
  now: Date,
): ReviewPolicyStatus | undefined {
  const generation = object.metadata?.generation;
  const current = object.status ?? {};
  const ready = current.conditions?.find((c) => c.type === 'Ready');
  const same =
    current.observedGeneration === generation &&
    ready?.status === evaluated.condition.status &&
    ready.reason === evaluated.condition.reason &&
    ready.message === evaluated.condition.message &&
    (current.matchedRepositories ?? 0) === matchedRepositories;
  if (same) return undefined;
  const transitioned = ready?.status !== evaluated.condition.status;
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [
      {
        type: 'Ready',
        ...evaluated.condition,
        message: evaluated.condition.message.slice(0, 32_000),
        lastTransitionTime: transitioned || !ready ? now.toISOString() : ready.lastTransitionTime,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
    ],
    matchedRepositories,
    ...(current.lastAppliedTime ? { lastAppliedTime: current.lastAppliedTime } : {}),
  };
}
