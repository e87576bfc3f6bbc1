// The budgets of the valid ReviewPolicies, as the worker's policy informer publishes them for
// processes without Kubernetes access (the backend's dashboard): only what budgets need (selector,
// priority, budgets), read back through the same layering a review's budgets come from.
import { z } from 'zod';
import { type Budget, type PolicyTarget, policyLayerFor } from './layering.js';
import { type NamedPolicy, policyNameSchema, reviewPolicySpecSchema } from './policy.schema.js';

export const budgetSnapshotSchema = z
  .object({
    publishedAt: z.iso.datetime(),
    /** The valid policies that set a budget, each cut down to its selector, priority and budgets. */
    policies: z.array(z.object({ name: policyNameSchema, spec: reviewPolicySpecSchema }).strict()),
  })
  .strict();
export type BudgetSnapshot = z.infer<typeof budgetSnapshotSchema>;

/** The snapshot of the given valid policies: the ones without budgets are left out. */
export function budgetSnapshot(policies: readonly NamedPolicy[], at: Date): BudgetSnapshot {
  return {
    publishedAt: at.toISOString(),
    policies: policies
      .filter((p) => Object.values(p.spec.budgets ?? {}).some((v) => v !== undefined))
      .map(({ name, spec }) => ({
        name,
        spec: { selector: spec.selector, priority: spec.priority, budgets: spec.budgets },
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** The budgets a review of `target` is counted in: exactly its policy layer's budgets. */
export const budgetsCovering = (snapshot: BudgetSnapshot, target: PolicyTarget): Budget[] =>
  policyLayerFor(snapshot.policies, target).budgets;
