// Counting semaphores shared by every worker replica: each pool is a Redis sorted set of holders
// scored by their lease's expiry (Redis' clock, so replicas agree), so a dead replica's slots free
// themselves. Review slots (a global pool and one per repository) and the model gateway's
// per-provider call slots are both leases of this one mechanism.
import { redisScript } from '@kritik/server';
import type { Redis } from 'ioredis';

// KEYS: the pools, all or none. ARGV: member, ttl ms, then each pool's limit. 0 when held, else the
// (1-based) index of the first full pool. A member already holding the first pool renews instead.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now) end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  for i = 1, #KEYS do
    if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 + i]) then return i end
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 0`;

// KEYS: the pools. ARGV: member, ttl ms. 1 when the lease was still held and is extended.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then return 0 end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

export class LeasedSlots {
  private readonly acquireScript;
  private readonly renewScript;

  constructor(private readonly redis: Redis) {
    this.acquireScript = redisScript(redis, 'kritikSlotsAcquire', undefined, ACQUIRE);
    this.renewScript = redisScript(redis, 'kritikSlotsRenew', undefined, RENEW);
  }

  /** Takes a slot in every pool (`limits[i]` for `pools[i]`) for `ttlMs`: 0, or the 1-based index of a full pool. */
  async acquire(pools: readonly string[], limits: readonly number[], member: string, ttlMs: number): Promise<number> {
    return Number(await this.acquireScript(pools.length, ...pools, member, ttlMs, ...limits));
  }

  /** Extends a lease still held; false once it expired (its slot may be someone else's now). */
  async renew(pools: readonly string[], member: string, ttlMs: number): Promise<boolean> {
    return Number(await this.renewScript(pools.length, ...pools, member, ttlMs)) === 1;
  }

  async release(pools: readonly string[], member: string): Promise<void> {
    const multi = this.redis.multi();
    for (const pool of pools) multi.zrem(pool, member);
    await multi.exec();
  }

  /** Leases of a pool not yet expired, across all replicas. */
  inUse(pool: string): Promise<number> {
    return this.redis.zcount(pool, Date.now(), '+inf');
  }
}
