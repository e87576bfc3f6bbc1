// The per-pull-request lease in Redis that lets one review of a PR run at a time. (The PR's newest
// head, which tells a running review that it was superseded, is the server's PrHeadStore.)
import { redisKeys } from '@kritik/core';
import { type PrKey, REDIS } from '@kritik/server';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';

/** Who holds a PR lease: the review and the worker process running it. */
export interface LeaseHolder {
  readonly reviewId: string;
  readonly owner: string;
}

/** A pull request, as the server's stores name it. */
export type PrRef = PrKey;

const encodeHolder = (h: LeaseHolder) => `${h.reviewId}|${h.owner}`;
const decodeHolder = (raw: string): LeaseHolder => {
  const at = raw.indexOf('|');
  return { reviewId: raw.slice(0, at), owner: raw.slice(at + 1) };
};

// KEYS: lease. ARGV: holder, ttl ms. Re-entrant for the same holder.
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

// KEYS: lease. ARGV: holder, ttl ms.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// KEYS: lease. ARGV: holder.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;

// KEYS: lease. ARGV: expected holder, new holder, ttl ms.
const TAKE_OVER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

const keyRepo = (ref: PrRef) => ref.repo.toLowerCase();

@Injectable()
export class PrLeases {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Takes the PR's lease for `holder`; returns the other holder when it is taken. */
  async acquire(ref: PrRef, holder: LeaseHolder, ttlMs: number): Promise<LeaseHolder | undefined> {
    const other = (await this.redis.eval(ACQUIRE, 1, this.leaseKey(ref), encodeHolder(holder), ttlMs)) as string | null;
    return other ? decodeHolder(other) : undefined;
  }

  /** Extends the lease; false when it is no longer ours (expired, or taken after expiry). */
  async renew(ref: PrRef, holder: LeaseHolder, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.leaseKey(ref), encodeHolder(holder), ttlMs)) === 1;
  }

  /**
   * Replaces `expected` as the holder. Only for the same queue entry picked up again after its
   * worker died (BullMQ recovered it), so it need not wait for the old lease to expire.
   */
  async takeOver(ref: PrRef, expected: LeaseHolder, holder: LeaseHolder, ttlMs: number): Promise<boolean> {
    return (
      (await this.redis.eval(TAKE_OVER, 1, this.leaseKey(ref), encodeHolder(expected), encodeHolder(holder), ttlMs)) ===
      1
    );
  }

  async release(ref: PrRef, holder: LeaseHolder): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.leaseKey(ref), encodeHolder(holder))) === 1;
  }

  async holder(ref: PrRef): Promise<LeaseHolder | undefined> {
    const raw = await this.redis.get(this.leaseKey(ref));
    return raw ? decodeHolder(raw) : undefined;
  }

  private leaseKey(ref: PrRef) {
    return redisKeys.prLease(keyRepo(ref), ref.pr);
  }
}
