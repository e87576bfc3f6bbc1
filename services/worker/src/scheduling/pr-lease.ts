// Per-pull-request coordination in Redis: the lease that lets one review of a PR run at a time,
// and the PR's newest head, which tells a running review that a newer SHA superseded it.
import { redisKeys } from '@kritik/core';
import { Redis } from 'ioredis';

/** Who holds a PR lease: the review and the worker process running it. */
export interface LeaseHolder {
  readonly reviewId: string;
  readonly owner: string;
}

/** The newest review known for a PR (the one that should run next). */
export interface PrHead {
  readonly reviewId: string;
  readonly sha: string;
  /** Enqueue time in milliseconds; the later enqueue wins. */
  readonly at: number;
}

export interface PrRef {
  /** `owner/name` as the repository is spelled; keys use it lower-cased. */
  readonly repo: string;
  readonly pr: number;
}

const HEAD_TTL_SECONDS = 7 * 24 * 3600;

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

// KEYS: head. ARGV: reviewId, sha, at, ttl s. Keeps the later enqueue; returns the head after it.
const OFFER_HEAD = `
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if tonumber(ARGV[3]) >= at then
  redis.call('HSET', KEYS[1], 'reviewId', ARGV[1], 'sha', ARGV[2], 'at', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('HMGET', KEYS[1], 'reviewId', 'sha', 'at')`;

const keyRepo = (ref: PrRef) => ref.repo.toLowerCase();

export class PrLeases {
  constructor(private readonly redis: Redis) {}

  /** Takes the PR's lease for `holder`; returns the other holder when it is taken. */
  async acquire(ref: PrRef, holder: LeaseHolder, ttlMs: number): Promise<LeaseHolder | undefined> {
    const other = (await this.redis.eval(ACQUIRE, 1, this.leaseKey(ref), encodeHolder(holder), ttlMs)) as string | null;
    return other ? decodeHolder(other) : undefined;
  }

  /** Extends the lease; false when it is no longer ours (expired, or taken after expiry). */
  async renew(ref: PrRef, holder: LeaseHolder, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.leaseKey(ref), encodeHolder(holder), ttlMs)) === 1;
  }

  async release(ref: PrRef, holder: LeaseHolder): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.leaseKey(ref), encodeHolder(holder))) === 1;
  }

  async holder(ref: PrRef): Promise<LeaseHolder | undefined> {
    const raw = await this.redis.get(this.leaseKey(ref));
    return raw ? decodeHolder(raw) : undefined;
  }

  /** Records a review as the PR's head unless a later-enqueued one is there; returns the head. */
  async offerHead(ref: PrRef, head: PrHead): Promise<PrHead> {
    const [reviewId, sha, at] = (await this.redis.eval(
      OFFER_HEAD,
      1,
      this.headKey(ref),
      head.reviewId,
      head.sha,
      head.at,
      HEAD_TTL_SECONDS,
    )) as [string, string, string];
    return { reviewId, sha, at: Number(at) };
  }

  async head(ref: PrRef): Promise<PrHead | undefined> {
    const [reviewId, sha, at] = await this.redis.hmget(this.headKey(ref), 'reviewId', 'sha', 'at');
    return reviewId && sha && at ? { reviewId, sha, at: Number(at) } : undefined;
  }

  private leaseKey(ref: PrRef) {
    return redisKeys.prLease(keyRepo(ref), ref.pr);
  }

  private headKey(ref: PrRef) {
    return redisKeys.prHead(keyRepo(ref), ref.pr);
  }
}
