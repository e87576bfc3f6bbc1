// A repository's learned rules: the findings its team dismissed (fingerprint and a short rule),
// and its acceptance counts. The one owner of that state in Redis: the worker records what
// reviews report and hands the rules to the next review; the API lists and removes them.
// Keyed per code host (repoScope): a GitLab project never shares a GitHub repository's rules.
import {
  type Acceptance,
  type Dismissal,
  type LearnedRule,
  MAX_RULE_CHARS,
  type Platform,
  type RepoRef,
  type ReviewPayload,
  redisKeys,
  repoScope,
} from '@kritik/core';
import type { Redis } from 'ioredis';

/** Rules a repository keeps; the oldest go first beyond it. */
export const MAX_LEARNED_RULES = 500;
/** Rules a prompt carries, newest first. */
export const PROMPT_RULES = 20;

/** GitHub's keys stay the bare lower-cased `owner/name` they were before GitLab existed. */
const name = (platform: Platform, repo: RepoRef) => repoScope(platform, repo).toLowerCase();

export class LearnedRulesStore {
  constructor(private readonly redis: Redis) {}

  /**
   * Records dismissals (a fingerprint dismissed again keeps one rule, the newest); answers how many
   * were new, the count acceptance's `dismissed` grew by.
   */
  async record(platform: Platform, repo: RepoRef, dismissals: readonly Dismissal[], now = new Date()): Promise<number> {
    if (dismissals.length === 0) return 0;
    const key = name(platform, repo);
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
        ...(d.via ? { via: d.via } : {}),
        learnedAt: now.toISOString(),
      };
      multi.hset(redisKeys.repoRules(key), d.fingerprint, JSON.stringify(rule));
      multi.zadd(redisKeys.repoRulesByTime(key), now.getTime(), d.fingerprint);
    }
    if (fresh.length > 0) multi.hincrby(redisKeys.repoAcceptance(key), 'dismissed', fresh.length);
    await multi.exec();
    await this.trim(key);
    return fresh.length;
  }

  async addResolved(platform: Platform, repo: RepoRef, count: number): Promise<void> {
    if (count > 0) await this.redis.hincrby(redisKeys.repoAcceptance(name(platform, repo)), 'resolved', count);
  }

  /** The repository's rules, newest first. */
  async list(platform: Platform, repo: RepoRef, limit = MAX_LEARNED_RULES): Promise<LearnedRule[]> {
    const key = name(platform, repo);
    const fps = await this.redis.zrevrange(redisKeys.repoRulesByTime(key), 0, limit - 1);
    if (fps.length === 0) return [];
    const raw = await this.redis.hmget(redisKeys.repoRules(key), ...fps);
    return raw.flatMap((r) => (r ? [JSON.parse(r) as LearnedRule] : []));
  }

  /** Forgets one rule; false when the repository has none by that fingerprint. */
  async remove(platform: Platform, repo: RepoRef, fingerprint: string): Promise<boolean> {
    const key = name(platform, repo);
    const [[, removed]] = (await this.redis
      .multi()
      .hdel(redisKeys.repoRules(key), fingerprint)
      .zrem(redisKeys.repoRulesByTime(key), fingerprint)
      .exec()) as [[Error | null, number]];
    return removed === 1;
  }

  /** What the next review of the repository gets: every fingerprint, and the newest rules. */
  async learnedFor(platform: Platform, repo: RepoRef): Promise<NonNullable<ReviewPayload['learned']>> {
    const rules = await this.list(platform, repo);
    return {
      fingerprints: rules.map((r) => r.fingerprint),
      rules: [...new Set(rules.map((r) => r.rule))].slice(0, PROMPT_RULES),
    };
  }

  async acceptance(platform: Platform, repo: RepoRef): Promise<Acceptance> {
    const counts = await this.redis.hgetall(redisKeys.repoAcceptance(name(platform, repo)));
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
