// The newest review known for each pull request (`redisKeys.prHead`, a hash of reviewId, sha
// and enqueue time). The backend offers every review it queues; the worker reads it to see that
// a running review was superseded; comment commands read its SHA.
import { redisKeys } from '@kritik/core';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { REDIS } from './redis.js';
import { redisScript } from './redis-script.js';

export interface PrHead {
  readonly reviewId: string;
  readonly sha: string;
  /** Enqueue time in milliseconds; the later enqueue wins. */
  readonly at: number;
}

export interface PrKey {
  /** `owner/name` in any case; keys use it lower-cased. */
  readonly repo: string;
  readonly pr: number;
}

export const PR_HEAD_TTL_SECONDS = 7 * 24 * 3600;

// KEYS: head. ARGV: reviewId, sha, at, ttl s. Keeps the later enqueue (of two enqueued in the
// same millisecond, the first offered: only one may ever be told it is the head); returns the
// head after it.
const OFFER = `
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if tonumber(ARGV[3]) > at then
  redis.call('HSET', KEYS[1], 'reviewId', ARGV[1], 'sha', ARGV[2], 'at', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('HMGET', KEYS[1], 'reviewId', 'sha', 'at')`;

@Injectable()
export class PrHeadStore {
  private readonly offerScript;

  constructor(@Inject(REDIS) private readonly redis: Redis) {
    this.offerScript = redisScript(redis, 'kritikPrHeadOffer', 1, OFFER);
  }

  /** Records `head` unless a review enqueued at the same time or later is there; returns the head after it. */
  async offer(ref: PrKey, head: PrHead): Promise<PrHead> {
    const [reviewId, sha, at] = (await this.offerScript(
      PrHeadStore.key(ref),
      head.reviewId,
      head.sha,
      head.at,
      PR_HEAD_TTL_SECONDS,
    )) as [string, string, string];
    return { reviewId, sha, at: Number(at) };
  }

  async get(ref: PrKey): Promise<PrHead | undefined> {
    const [reviewId, sha, at] = await this.redis.hmget(PrHeadStore.key(ref), 'reviewId', 'sha', 'at');
    return reviewId && sha && at ? { reviewId, sha, at: Number(at) } : undefined;
  }

  static key(ref: PrKey) {
    return redisKeys.prHead(ref.repo.toLowerCase(), ref.pr);
  }
}
