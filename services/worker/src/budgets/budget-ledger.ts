// Budgets that stop spending: before a review calls the model, its most possible cost is reserved
// in every budget that covers it, atomically (one Lua script), and after it the real cost replaces
// the reservation. Concurrent reviews cannot overshoot; the ledger lives in Redis, so it survives restarts.
import type { Budget, Platform, RepoRef } from '@kritik/core';
import { redisScript } from '@kritik/server';
import type { Redis } from 'ioredis';

/** Whom a budget counts: the repository or its owner, on its platform. */
export interface BudgetSubject {
  readonly platform: Platform;
  readonly repo: RepoRef;
}

export type Reservation =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly budget: Budget;
      /** Spent and reserved in the budget's current window, in USD. */
      readonly usedUsd: number;
      readonly resetsAt: Date;
    };

export interface BudgetStanding {
  readonly budget: Budget;
  readonly usedUsd: number;
  readonly remainingUsd: number;
  readonly resetsAt: Date;
}

// Each budget window is one hash: `spent`, and one `r:<reviewId>` field per live reservation
// holding `<usd>|<expires at ms>`. A reservation of a review that never settled (its worker died
// for good) lapses at its expiry instead of holding the budget forever.
const USED = `
local function used(key, now, except)
  local fields = redis.call('HGETALL', key)
  local total = 0
  for j = 1, #fields, 2 do
    local f, v = fields[j], fields[j + 1]
    if f == 'spent' then
      total = total + tonumber(v)
    elseif string.sub(f, 1, 2) == 'r:' then
      local amount, expires = string.match(v, '^([^|]+)|(.+)$')
      if tonumber(expires) <= now then
        redis.call('HDEL', key, f)
      elseif f ~= except then
        total = total + tonumber(amount)
      end
    end
  end
  return total
end
`;

/** KEYS: the windows. ARGV: reviewId, usd, now ms, expires ms, then per key its limit and TTL. */
const RESERVE = `${USED}
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

/** KEYS: the windows. ARGV: now ms. */
const STANDING = `${USED}
local out = {}
for i, key in ipairs(KEYS) do out[i] = tostring(used(key, tonumber(ARGV[1]), '')) end
return out
`;

/** The start of the window after the one `at` is in (UTC). */
export function windowReset(period: Budget['period'], at: Date): Date {
  return period === 'day'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

const windowName = (period: Budget['period'], at: Date) => at.toISOString().slice(0, period === 'day' ? 10 : 7);

export function budgetKey(budget: Budget, subject: BudgetSubject, at: Date): string {
  const who = budget.scope === 'org' ? subject.repo.owner : `${subject.repo.owner}/${subject.repo.name}`;
  return `kritik:budget:${budget.id}:${subject.platform}:${who.toLowerCase()}:${windowName(budget.period, at)}`;
}

export interface BudgetLedgerOptions {
  /** How long a reservation holds without being settled: past the longest a review may run. */
  readonly reservationTtlMs: number;
}

export class BudgetLedger {
  private readonly reserveScript;
  private readonly settleScript;
  private readonly standingScript;

  constructor(
    redis: Redis,
    private readonly options: BudgetLedgerOptions,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.reserveScript = redisScript(redis, 'kritikBudgetReserve', undefined, RESERVE);
    this.settleScript = redisScript(redis, 'kritikBudgetSettle', undefined, SETTLE);
    this.standingScript = redisScript(redis, 'kritikBudgetStanding', undefined, STANDING);
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

  async standing(budgets: readonly Budget[], subject: BudgetSubject): Promise<BudgetStanding[]> {
    if (budgets.length === 0) return [];
    const at = this.now();
    const keys = budgets.map((b) => budgetKey(b, subject, at));
    const used = (await this.standingScript(keys.length, ...keys, at.getTime())) as string[];
    return budgets.map((budget, i) => {
      const usedUsd = Number(used[i]);
      return {
        budget,
        usedUsd,
        remainingUsd: Math.max(0, budget.limitUsd - usedUsd),
        resetsAt: windowReset(budget.period, at),
      };
    });
  }
}

/** What a review skipped for its budget says on its check run and record. */
export const overBudgetReason = (r: Extract<Reservation, { ok: false }>) =>
  `budget: ${r.budget.id} (${r.budget.limitUsd} USD per ${r.budget.period} for this ${r.budget.scope}) ` +
  `has ${Math.max(0, r.budget.limitUsd - r.usedUsd).toFixed(2)} USD left; it resets at ${r.resetsAt.toISOString()}`;
