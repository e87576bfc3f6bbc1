// How many comment commands one user may give on one pull request in a window: each `review`
// costs a model run and each `help` a comment, so a commenter cannot loop them. A sliding window
// of delivery ids in Redis: a redelivery of a counted command gets the same answer again.
import { redisKeys, repoFullName } from '@kritik/core';
import { redisScript } from '@kritik/server';
import type { Redis } from 'ioredis';
import type { PullRequestRef } from './intake.event.js';

export interface CommandRateOptions {
  /** Commands one user may give on one pull request per window. */
  readonly limit: number;
  readonly windowSeconds: number;
}

// KEYS: the user's set. ARGV: delivery id, now (ms), window (ms), limit. 1 allowed, 0 refused.
const ADMIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if rank then return rank < tonumber(ARGV[4]) and 1 or 0 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

export class CommandRateLimit {
  private readonly admit: (...args: (string | number)[]) => Promise<unknown>;

  constructor(
    redis: Redis,
    private readonly options: CommandRateOptions,
  ) {
    this.admit = redisScript(redis, 'kritikCommandAdmit', 1, ADMIT);
  }

  /** Whether `user` may give one more command (this delivery) on the pull request now. */
  async allows(pr: PullRequestRef, user: string, deliveryId: string, now = Date.now()): Promise<boolean> {
    const key = redisKeys.prUserCommands(repoFullName(pr.repo).toLowerCase(), pr.number, user.toLowerCase());
    const allowed = await this.admit(key, deliveryId, now, this.options.windowSeconds * 1000, this.options.limit);
    return allowed === 1;
  }
}
