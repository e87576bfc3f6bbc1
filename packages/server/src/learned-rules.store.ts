// A repository's learned rules: the findings its team dismissed (fingerprint and a short rule),
// and its acceptance counts. The one owner of that state in Redis: the worker records what
// reviews report and hands the rules to the next review; the API lists and removes them.
import {
  type Dismissal,
  MAX_RULE_CHARS,
  type RepoRef,
  type ReviewPayload,
  redisKeys,
  repoFullName,
} from '@kritik/core';
import type { Redis } from 'ioredis';

/** Rules a repository keeps; the oldest go first beyond it. */
export const MAX_LEARNED_RULES = 500;
/** Rules a prompt carries, newest first. */
export const PROMPT_RULES = 20;

export interface LearnedRule extends Dismissal {
  learnedAt: string;
}

export interface Acceptance {
  /** Findings whose code a later push changed (their threads resolved by Kritik). */
  resolved: number;
  /** Findings the team dismissed. */
  dismissed: number;
  /** resolved / (resolved + dismissed), or null before any. */
  rate: number | null;
}

const name = (repo: RepoRef) => repoFullName(repo).toLowerCase();

export class LearnedRulesStore {
  constructor(private readonly redis: Redis) {}

  /** Records dismissals (a fingerprint dismissed again keeps one rule, the newest). */
  async record(repo: RepoRef, dismissals: readonly Dismissal[], now = new Date()): Promise<void> {
    if (dismissals.length === 0) return;
    const key = name(repo);
    const fresh: Dismissal[] = [];
    const known = await this.redis.hmget(redisKeys.repoRules(key), ...dismissals.map((d) => d.fingerprint));
    dismissals.forEach((d, i) => {
      if (known[i] === null) fresh.push(d);
    });
    const multi = this.redis.multi();
    for (const d of dismissals) {
      const rule: LearnedRule = {
        fingerprint: d.fingerprint,
        rule: d.rule.slice(0, MAX_RULE_CHARS),
        learnedAt: now.toISOString(),
      };
      multi.hset(redisKeys.repoRules(key), d.fingerprint, JSON.stringify(rule));
      multi.zadd(redisKeys.repoRulesByTime(key), now.getTime(), d.fingerprint);
    }
    if (fresh.length > 0) multi.hincrby(redisKeys.repoAcceptance(key), 'dismissed', fresh.length);
    await multi.exec();
    await this.trim(key);
  }

  async addResolved(repo: RepoRef, count: number): Promise<void> {
    if (count > 0) await this.redis.hincrby(redisKeys.repoAcceptance(name(repo)), 'resolved', count);
  }

  /** The repository's rules, newest first. */
  async list(repo: RepoRef, limit = MAX_LEARNED_RULES): Promise<LearnedRule[]> {
    const key = name(repo);
    const fps = await this.redis.zrevrange(redisKeys.repoRulesByTime(key), 0, limit - 1);
    if (fps.length === 0) return [];
    const raw = await this.redis.hmget(redisKeys.repoRules(key), ...fps);
    return raw.flatMap((r) => (r ? [JSON.parse(r) as LearnedRule] : []));
  }

  /** Forgets one rule; false when the repository has none by that fingerprint. */
  async remove(repo: RepoRef, fingerprint: string): Promise<boolean> {
    const key = name(repo);
    const [[, removed]] = (await this.redis
      .multi()
      .hdel(redisKeys.repoRules(key), fingerprint)
      .zrem(redisKeys.repoRulesByTime(key), fingerprint)
      .exec()) as [[Error | null, number]];
    return removed === 1;
  }

  /** What the next review of the repository gets: every fingerprint, and the newest rules. */
  async learnedFor(repo: RepoRef): Promise<NonNullable<ReviewPayload['learned']>> {
    const rules = await this.list(repo);
    return {
      fingerprints: rules.map((r) => r.fingerprint),
      rules: [...new Set(rules.map((r) => r.rule))].slice(0, PROMPT_RULES),
    };
  }

  async acceptance(repo: RepoRef): Promise<Acceptance> {
    const counts = await this.redis.hgetall(redisKeys.repoAcceptance(name(repo)));
    const resolved = Number(counts.resolved ?? 0);
    const dismissed = Number(counts.dismissed ?? 0);
    return { resolved, dismissed, rate: resolved + dismissed === 0 ? null : resolved / (resolved + dismissed) };
  }

  private async trim(key: string): Promise<void> {
    const overflow = await this.redis.zrange(redisKeys.repoRulesByTime(key), 0, -(MAX_LEARNED_RULES + 1));
    if (overflow.length === 0) return;
    await this.redis
      .multi()
      .hdel(redisKeys.repoRules(key), ...overflow)
      .zrem(redisKeys.repoRulesByTime(key), ...overflow)
      .exec();
  }
}
