// How much of a budget is used: the one reading of a budget window (spent plus live reservations),
// shared by the worker's ledger, which reserves against it, and the backend's dashboard, which shows it.
import type { Budget, Platform, RepoRef } from '@kritik/core';
import type { Redis } from 'ioredis';
import { redisScript } from './redis-script.js';

/** Whom a budget counts: the repository or its owner, on its platform. */
export interface BudgetSubject {
  readonly platform: Platform;
  readonly repo: RepoRef;
}

export interface BudgetStanding {
  readonly budget: Budget;
  /** Spent and reserved in the budget's current window, in USD. */
  readonly usedUsd: number;
  readonly remainingUsd: number;
  readonly resetsAt: Date;
}

/**
 * Lua `used(key, now, except)`: what a window holds. Each budget window is one hash: `spent`, and
 * one `r:<reviewId>` field per live reservation holding `<usd>|<expires at ms>`. A reservation of
 * a review that never settled (its worker died for good) lapses at its expiry and is dropped here,
 * instead of holding the budget forever. `except` leaves out one reservation (the review asking).
 */
export const BUDGET_USED_LUA = `
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

/** KEYS: the windows. ARGV: now ms. */
const STANDING = `${BUDGET_USED_LUA}
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

/** Who a budget counts for a subject: `owner/name`, or `owner` for an org budget. */
export const budgetWho = (budget: Budget, subject: BudgetSubject): string =>
  budget.scope === 'org' ? subject.repo.owner : `${subject.repo.owner}/${subject.repo.name}`;

export function budgetKey(budget: Budget, subject: BudgetSubject, at: Date): string {
  return `kritik:budget:${budget.id}:${subject.platform}:${budgetWho(budget, subject).toLowerCase()}:${windowName(budget.period, at)}`;
}

export class BudgetStandings {
  private readonly standingScript;

  constructor(
    redis: Redis,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.standingScript = redisScript(redis, 'kritikBudgetStanding', undefined, STANDING);
  }

  /** Each budget's use in its current window for the subject, in the order given. */
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
