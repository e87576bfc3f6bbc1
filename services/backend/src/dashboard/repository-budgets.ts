// The budgets shown on the dashboard's Repositories page: which budgets cover a repository, from
// the snapshot the worker's policy informer publishes (the backend has no Kubernetes access), and
// how much of each is used, read through the same function the worker's ledger reserves against.
import { type BudgetSnapshot, budgetsCovering, type Platform, type RepositoryBudget, repoRefOf } from '@kritik/core';
import {
  type BudgetSnapshotStore,
  BudgetSnapshotUnreadable,
  type BudgetStandings,
  budgetWho,
  type Logger,
} from '@kritik/server';

/** A repository's budgets: empty when none covers it, null when the published budgets cannot be read. */
export type BudgetsOf = (platform: Platform, repo: string) => Promise<RepositoryBudget[] | null>;

export class RepositoryBudgets {
  constructor(
    private readonly snapshots: BudgetSnapshotStore,
    private readonly standings: BudgetStandings,
    private readonly log: Logger,
  ) {}

  /**
   * Reads the snapshot once for a page of repositories. An org budget shows its owner-wide use to
   * anyone who sees one of the owner's repositories, as an over-budget check run does; which other
   * repositories spent it, and the selectors that name them, are never shown (ADR 0043).
   */
  async reader(): Promise<BudgetsOf> {
    let snapshot: BudgetSnapshot;
    try {
      snapshot = await this.snapshots.read();
    } catch (error) {
      if (!(error instanceof BudgetSnapshotUnreadable)) throw error;
      this.log.warn({ err: error.message }, 'the published budgets cannot be read; the dashboard shows none');
      return async () => null;
    }
    return async (platform, repo) => {
      const subject = { platform, repo: repoRefOf(repo) };
      const budgets = budgetsCovering(snapshot, { platform, ...subject.repo });
      return (await this.standings.standing(budgets, subject)).map((s) => ({
        id: s.budget.id,
        policy: s.budget.policy,
        scope: s.budget.scope,
        period: s.budget.period,
        subject: budgetWho(s.budget, subject),
        limitUsd: s.budget.limitUsd,
        usedUsd: s.usedUsd,
        resetsAt: s.resetsAt.toISOString(),
      }));
    };
  }
}
