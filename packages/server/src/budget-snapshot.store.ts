// The budgets of the valid ReviewPolicies in Redis (`redisKeys.budgetSnapshot`): the worker's
// policy informer publishes them on every change, the backend reads them (it has no Kubernetes access).
import { type BudgetSnapshot, budgetSnapshotSchema, redisKeys } from '@kritik/core';
import type { Redis } from 'ioredis';

export class BudgetSnapshotUnreadable extends Error {}

export class BudgetSnapshotStore {
  constructor(private readonly redis: Redis) {}

  async publish(snapshot: BudgetSnapshot): Promise<void> {
    await this.redis.set(redisKeys.budgetSnapshot(), JSON.stringify(snapshot));
  }

  /**
   * The snapshot last published; one without policies when none was (budgets are off or no worker
   * has started). Throws BudgetSnapshotUnreadable, naming the fault, when the value is not one.
   */
  async read(): Promise<BudgetSnapshot> {
    const raw = await this.redis.get(redisKeys.budgetSnapshot());
    if (raw === null) return { publishedAt: new Date(0).toISOString(), policies: [] };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new BudgetSnapshotUnreadable(`${redisKeys.budgetSnapshot()} is not JSON: ${(error as Error).message}`);
    }
    const parsed = budgetSnapshotSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new BudgetSnapshotUnreadable(
        `${redisKeys.budgetSnapshot()} is not a budget snapshot: ${issue.path.join('.') || 'value'}: ${issue.message}`,
      );
    }
    return parsed.data;
  }
}
