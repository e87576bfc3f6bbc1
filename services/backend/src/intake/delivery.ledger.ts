// Webhook delivery ids seen in the last 72 hours (`redisKeys.delivery`), so a redelivery of an
// accepted event enqueues nothing. A delivery is claimed before enqueueing and marked accepted
// after; a claim that never completes expires within a minute, so a redelivery can retry it.
import { redisKeys } from '@kritik/core';
import { REDIS, redisScript } from '@kritik/server';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';

export const DELIVERY_TTL_SECONDS = 72 * 3600;
const CLAIM_TTL_MS = 60_000;
const PENDING = 'pending';
const ACCEPTED = 'accepted:';

export type Claim =
  | { readonly status: 'claimed' }
  /** Another request is handling this delivery right now. */
  | { readonly status: 'pending' }
  /** Accepted before; `result` is what it was accepted as (a review id or a command). */
  | { readonly status: 'accepted'; readonly result: string };

// KEYS: delivery. ARGV: pending marker, claim ttl ms. Returns the previous value, or false.
const CLAIM = `
local previous = redis.call('GET', KEYS[1])
if previous then return previous end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

// KEYS: delivery. ARGV: pending marker. Deletes the key only while it holds the marker.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

@Injectable()
export class DeliveryLedger {
  private readonly claimScript;
  private readonly releaseScript;

  constructor(@Inject(REDIS) private readonly redis: Redis) {
    this.claimScript = redisScript(redis, 'kritikDeliveryClaim', 1, CLAIM);
    this.releaseScript = redisScript(redis, 'kritikDeliveryRelease', 1, RELEASE);
  }

  async claim(deliveryId: string): Promise<Claim> {
    const previous = (await this.claimScript(redisKeys.delivery(deliveryId), PENDING, CLAIM_TTL_MS)) as string | null;
    if (previous === null) return { status: 'claimed' };
    if (previous.startsWith(ACCEPTED)) return { status: 'accepted', result: previous.slice(ACCEPTED.length) };
    return { status: 'pending' };
  }

  async accept(deliveryId: string, result: string): Promise<void> {
    await this.redis.set(redisKeys.delivery(deliveryId), `${ACCEPTED}${result}`, 'EX', DELIVERY_TTL_SECONDS);
  }

  /** Gives a claimed delivery back after a failure, so its redelivery is processed. */
  async release(deliveryId: string): Promise<void> {
    await this.releaseScript(redisKeys.delivery(deliveryId), PENDING);
  }
}
