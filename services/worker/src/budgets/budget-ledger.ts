// Budgets that stop spending: before a review calls the model, its most possible cost is reserved
// in every budget that covers it, atomically (one Lua script), and after it the real cost replaces
// the reservation. Concurrent reviews cannot overshoot; the ledger lives in Redis, so it survives restarts.
import type { Budget } from '@kritik/core';
import {
  BUDGET_USED_LUA,
  type BudgetStanding,
  BudgetStandings,
  type BudgetSubject,
  budgetKey,
  redisScript,
  windowReset,
} from '@kritik/server';
import type { Redis } from 'ioredis';

// The read of a window is shared with the dashboard (packages/server budget-standing.ts).
export { type BudgetStanding, type BudgetSubject, windowReset };

export type Reservation =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly budget: Budget;
      /** Spent and reserved in the budget's current window, in USD. */
      readonly usedUsd: number;
      readonly resetsAt: Date;
    };

/** KEYS: the windows. ARGV: reviewId, usd, now ms, expires ms, then per key its limit and TTL. */
const RESERVE = `${BUDGET_USED_LUA}
local field = 'r:' .. ARGV[1]
local usd, now = tonumber(ARGV[2]), tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  local total = used(key, now, field)
  if total + usd > tonumber(ARGV[3 + 2 * i]) + 1e-9 then
    return { i, tostring(total) }
  end
end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, field, ARGV[2] .. '|' .. ARGV[4])
  redis.call('EXPIRE', key, tonumber(ARGV[4 + 2 * i]))
end
return { 0, '0' }
`;

/** KEYS: the windows. ARGV: reviewId, usd. Counts a review once: only where it still holds a reservation. */
const SETTLE = `
local counted = 0
for _, key in ipairs(KEYS) do
  if redis.call('HDEL', key, 'r:' .. ARGV[1]) == 1 then
    redis.call('HINCRBYFLOAT', key, 'spent', ARGV[2])
    counted = counted + 1
  end
end
return counted
`;

export interface BudgetLedgerOptions {
  /** How long a reservation holds without being settled: past the longest a review may run. */
  readonly reservationTtlMs: number;
}

export class BudgetLedger {
  private readonly reserveScript;
  private readonly settleScript;
  private readonly standings;

  constructor(
    redis: Redis,
    private readonly options: BudgetLedgerOptions,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.reserveScript = redisScript(redis, 'kritikBudgetReserve', undefined, RESERVE);
    this.settleScript = redisScript(redis, 'kritikBudgetSettle', undefined, SETTLE);
    this.standings = new BudgetStandings(redis, now);
  }

  /** Reserves `usd` for the review in every budget, or in none when one would be exceeded. */
  async reserve(
    reviewId: string,
    budgets: readonly Budget[],
    subject: BudgetSubject,
    usd: number,
  ): Promise<Reservation> {
    if (budgets.length === 0) return { ok: true };
    const at = this.now();
    const keys = budgets.map((b) => budgetKey(b, subject, at));
    const perKey = budgets.flatMap((b) => [
      b.limitUsd,
      // Kept a day past the reset so the last window's spending can still be read.
      Math.ceil((windowReset(b.period, at).getTime() - at.getTime()) / 1000) + 86_400,
    ]);
    const [index, used] = (await this.reserveScript(
      keys.length,
      ...keys,
      reviewId,
      usd,
      at.getTime(),
      at.getTime() + this.options.reservationTtlMs,
      ...perKey,
    )) as [number, string];
    if (index === 0) return { ok: true };
    const budget = budgets[index - 1]!;
    return { ok: false, budget, usedUsd: Number(used), resetsAt: windowReset(budget.period, at) };
  }

  /** Replaces the review's reservations with what it really spent (nothing twice, nothing when it held none). */
  async settle(reviewId: string, budgets: readonly Budget[], subject: BudgetSubject, usd: number): Promise<void> {
    if (budgets.length === 0) return;
    const at = this.now();
    const keys = budgets.map((b) => budgetKey(b, subject, at));
    await this.settleScript(keys.length, ...keys, reviewId, Math.max(0, usd));
  }

  standing(budgets: readonly Budget[], subject: BudgetSubject): Promise<BudgetStanding[]> {
    return this.standings.standing(budgets, subject);
  }
}

/** What a review skipped for its budget says on its check run and record. */
export const overBudgetReason = (r: Extract<Reservation, { ok: false }>) =>
  `budget: ${r.budget.id} (${r.budget.limitUsd} USD per ${r.budget.period} for this ${r.budget.scope}) ` +
  `has ${Math.max(0, r.budget.limitUsd - r.usedUsd).toFixed(2)} USD left; it resets at ${r.resetsAt.toISOString()}`;
