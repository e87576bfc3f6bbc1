// Concurrency caps shared by every worker replica: a global one and one per repository, so a
// busy repository cannot take every slot. Slots are sorted-set members scored by their expiry,
// so a crashed worker's slots free themselves.
import { KEY_PREFIX } from '@kritik/core';
import { Redis } from 'ioredis';

export const slotKeys = {
  global: () => `${KEY_PREFIX}:slots:global`,
  repo: (repo: string) => `${KEY_PREFIX}:slots:repo:${repo.toLowerCase()}`,
} as const;

export interface SlotLimits {
  readonly global: number;
  readonly perRepo: number;
}

export type SlotAnswer = 'acquired' | 'global-full' | 'repo-full';

// KEYS: global, repo. ARGV: member, ttl ms, global limit, repo limit. Redis' clock, so replicas agree.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local expiry = now + tonumber(ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], expiry, ARGV[1])
  redis.call('ZADD', KEYS[2], expiry, ARGV[1])
  return 0
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 2 end
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('ZADD', KEYS[2], expiry, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 0`;

// KEYS: global, repo. ARGV: member, ttl ms.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then return 0 end
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
redis.call('ZADD', KEYS[2], expiry, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

export class ReviewSlots {
  constructor(
    private readonly redis: Redis,
    private readonly limits: SlotLimits,
  ) {}

  async acquire(repo: string, member: string, ttlMs: number): Promise<SlotAnswer> {
    const answer = await this.redis.eval(
      ACQUIRE,
      2,
      slotKeys.global(),
      slotKeys.repo(repo),
      member,
      ttlMs,
      this.limits.global,
      this.limits.perRepo,
    );
    return answer === 0 ? 'acquired' : answer === 1 ? 'global-full' : 'repo-full';
  }

  async renew(repo: string, member: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 2, slotKeys.global(), slotKeys.repo(repo), member, ttlMs)) === 1;
  }

  async release(repo: string, member: string): Promise<void> {
    await this.redis.multi().zrem(slotKeys.global(), member).zrem(slotKeys.repo(repo), member).exec();
  }

  /** Slots in use across all replicas (expired ones excluded). */
  async inUse(): Promise<number> {
    const now = Date.now();
    return this.redis.zcount(slotKeys.global(), now, '+inf');
  }
}
