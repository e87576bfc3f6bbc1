// The model gateway's grants: one per running review, in Redis so any worker replica can serve a
// review's calls. A grant holds the review's token, its cost ceiling and what it has spent (the
// input-token ceiling is per request, which the reviewer enforces as it packs them); ending the
// review deletes it, so its token stops working at once, and it expires past the review's deadline
// if no worker is left to delete it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { redisKeys, type TokenUsage } from '@kritik/core';
import { redisScript } from '@kritik/server';
import type { Redis } from 'ioredis';

/** What a review has spent through the gateway. */
export interface GatewaySpend extends TokenUsage {
  readonly costUsd: number;
  readonly calls: number;
}

export interface Grant {
  readonly reviewId: string;
  readonly maxCostUsd: number;
  readonly spent: GatewaySpend;
}

/** Why a call is refused before it reaches the model. */
export type Refusal = { readonly kind: 'unknown-token' } | { readonly kind: 'budget'; readonly detail: string };

const TOKEN_PREFIX = 'kgw';
/** `kgw_<reviewId>_<secret>`: the review's id picks its grant, the secret proves the caller holds it. */
const TOKEN_PATTERN = /^kgw_([0-9a-z]{8,40})_([A-Za-z0-9_-]{43})$/;

// Counts only into a grant that still exists: a call finishing after its review ended must not
// bring the grant back without an expiry.
const METER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBYFLOAT', KEYS[1], 'costUsd', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'input', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'output', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'cacheRead', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'cacheWrite', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'calls', 1)
return 1
`;

const number = (raw: string | undefined) => (raw === undefined ? 0 : Number(raw));

export class GatewayGrants {
  private readonly meterScript;

  constructor(private readonly redis: Redis) {
    this.meterScript = redisScript(redis, 'kritikGatewayMeter', 1, METER);
  }

  /**
   * The review's gateway token: a new one, or the one already granted (a worker adopting a
   * running review hands its Job the same token). The grant lives `ttlSeconds` at most.
   */
  async issue(reviewId: string, maxCostUsd: number, ttlSeconds: number): Promise<string> {
    const key = redisKeys.gatewayGrant(reviewId);
    const candidate = `${TOKEN_PREFIX}_${reviewId}_${randomBytes(32).toString('base64url')}`;
    const replies = await this.redis
      .multi()
      .hsetnx(key, 'token', candidate)
      .hset(key, { maxCostUsd })
      .hget(key, 'token')
      .expire(key, ttlSeconds)
      .exec();
    const token = replies?.[2]?.[1];
    if (typeof token !== 'string') throw new Error(`could not grant review ${reviewId} a gateway token`);
    return token;
  }

  /** The grant `token` belongs to, or why there is none; budget refusals carry the numbers. */
  async authorize(token: string): Promise<Grant | Refusal> {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return { kind: 'unknown-token' };
    const reviewId = match[1]!;
    const fields = await this.redis.hgetall(redisKeys.gatewayGrant(reviewId));
    if (!fields.token || !sameSecret(fields.token, token)) return { kind: 'unknown-token' };
    const maxCostUsd = number(fields.maxCostUsd);
    const spent = spendOf(fields);
    // A call that starts under the ceiling may end past it; the next one is refused.
    if (spent.costUsd >= maxCostUsd) {
      return { kind: 'budget', detail: `the review has spent ${spent.costUsd.toFixed(4)} of its ${maxCostUsd} USD` };
    }
    return { reviewId, maxCostUsd, spent };
  }

  /** Adds one call's usage; false when the review ended meanwhile (nothing is recorded). */
  async meter(reviewId: string, usage: TokenUsage, costUsd: number): Promise<boolean> {
    const counted = await this.meterScript(
      redisKeys.gatewayGrant(reviewId),
      costUsd,
      usage.input,
      usage.output,
      usage.cacheRead,
      usage.cacheWrite,
    );
    return counted === 1;
  }

  /**
   * What the gateway metered for a review whose grant still exists (read before it is revoked), in
   * Redis, so a worker that took the review over after a restart reads the calls made before it.
   */
  async spent(reviewId: string): Promise<GatewaySpend | undefined> {
    const fields = await this.redis.hgetall(redisKeys.gatewayGrant(reviewId));
    return fields.token ? spendOf(fields) : undefined;
  }

  /** Ends the review's grant: its token is refused from now on. */
  async revoke(reviewId: string): Promise<void> {
    await this.redis.del(redisKeys.gatewayGrant(reviewId));
  }
}

function spendOf(fields: Record<string, string>): GatewaySpend {
  return {
    costUsd: number(fields.costUsd),
    input: number(fields.input),
    output: number(fields.output),
    cacheRead: number(fields.cacheRead),
    cacheWrite: number(fields.cacheWrite),
    calls: number(fields.calls),
  };
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
