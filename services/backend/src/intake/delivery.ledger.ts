// Webhook delivery ids seen in the last 72 hours (`redisKeys.delivery`), recorded with SET NX
// before enqueueing so a redelivery enqueues nothing. The value names what the delivery was
// accepted as; a redelivery checks that this was really stored (a failure after the claim must
// not swallow GitHub's redelivery), so no separate "done" write is needed per delivery.
import { redisKeys } from '@kritik/core';
import { REDIS, redisScript } from '@kritik/server';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';

export const DELIVERY_TTL_SECONDS = 72 * 3600;

// KEYS: delivery. ARGV: value, ttl s. Returns the value recorded before, or false if none.
const CLAIM = `
local previous = redis.call('GET', KEYS[1])
if previous then return previous end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false`;

// KEYS: delivery, key, hash. ARGV: value, ttl s, field. The claim, then the values of key and
// of the hash's field: one command where a claim and two reads would be three.
const CLAIM_AND_READ = `
local previous = redis.call('GET', KEYS[1])
if not previous then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return { previous, redis.call('GET', KEYS[2]), redis.call('HGET', KEYS[3], ARGV[3]) }`;

/** What to read along with a claim: a string key and one field of a hash. */
export interface ClaimReads {
  readonly key: string;
  readonly hash: string;
  readonly field: string;
}

@Injectable()
export class DeliveryLedger {
  private readonly claimScript;
  private readonly claimAndReadScript;

  constructor(@Inject(REDIS) redis: Redis) {
    this.claimScript = redisScript(redis, 'kritikDeliveryClaim', 1, CLAIM);
    this.claimAndReadScript = redisScript(redis, 'kritikDeliveryClaimAndRead', 3, CLAIM_AND_READ);
  }

  /** Records `deliveryId` as accepted as `result`; returns what it was recorded as before, if it was. */
  async claim(deliveryId: string, result: string): Promise<string | undefined> {
    const previous = (await this.claimScript(redisKeys.delivery(deliveryId), result, DELIVERY_TTL_SECONDS)) as
      | string
      | null;
    return previous ?? undefined;
  }

  /** claim(), and in the same command the values `reads` names (null when absent). */
  async claimAndRead(
    deliveryId: string,
    result: string,
    reads: ClaimReads,
  ): Promise<{ previous: string | undefined; value: string | null; field: string | null }> {
    const [previous, value, field] = (await this.claimAndReadScript(
      redisKeys.delivery(deliveryId),
      reads.key,
      reads.hash,
      result,
      DELIVERY_TTL_SECONDS,
      reads.field,
    )) as [string | null, string | null, string | null];
    return { previous: previous ?? undefined, value, field };
  }
}
