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

@Injectable()
export class DeliveryLedger {
  private readonly claimScript;

  constructor(@Inject(REDIS) redis: Redis) {
    this.claimScript = redisScript(redis, 'kritikDeliveryClaim', 1, CLAIM);
  }

  /** Records `deliveryId` as accepted as `result`; returns what it was recorded as before, if it was. */
  async claim(deliveryId: string, result: string): Promise<string | undefined> {
    const previous = (await this.claimScript(redisKeys.delivery(deliveryId), result, DELIVERY_TTL_SECONDS)) as
      | string
      | null;
    return previous ?? undefined;
  }
}
