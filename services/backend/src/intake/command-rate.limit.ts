// How many comment commands one user, and all users together, may give on one pull request in a
// window: each `review` costs a model run and each `help` a comment, so neither one commenter nor
// many can loop them. Sliding windows of delivery ids in Redis, both checked in one script: a
// redelivery of a counted command gets the same answer again.
import { redisKeys, repoScope } from '@kritik/core';
import { redisScript } from '@kritik/server';
import type { Redis } from 'ioredis';
import type { PullRequestRef } from './intake.event.js';

export interface CommandRateOptions {
  /** Commands one user may give on one pull request per window. */
  readonly limit: number;
  /** Commands all users together may give on one pull request per window. */
  readonly perPrLimit: number;
  readonly windowSeconds: number;
}

/** Which limit refused a command. */
export type CommandRefusal = 'user' | 'pull_request';

// KEYS: the user's set, the pull request's set. ARGV: delivery id, now (ms), window (ms), user
// limit, pull request limit. 0 allowed, 1 refused by the user's limit, 2 by the pull request's.
// A delivery counted before is answered as it was, so a redelivery never uses up a second place.
const ADMIT = `
local window_start = tonumber(ARGV[2]) - tonumber(ARGV[3])
for i = 1, 2 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', window_start) end
for i = 1, 2 do
  local rank = redis.call('ZRANK', KEYS[i], ARGV[1])
  if rank and rank >= tonumber(ARGV[3 + i]) then return i end
  if not rank and redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[3 + i]) then return i end
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], 'NX', ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return 0`;

export class CommandRateLimit {
  private readonly admit: (...args: (string | number)[]) => Promise<unknown>;

  constructor(
    redis: Redis,
    private readonly options: CommandRateOptions,
  ) {
    this.admit = redisScript(redis, 'kritikCommandAdmitPr', 2, ADMIT);
  }

  /** Whether `user` may give one more command (this delivery) on the pull request now. */
  async allows(pr: PullRequestRef, user: string, deliveryId: string, now = Date.now()): Promise<boolean> {
    return (await this.refusal(pr, user, deliveryId, now)) === undefined;
  }

  /** Which limit refuses this command, or undefined when it may go ahead (and is counted). */
  async refusal(
    pr: PullRequestRef,
    user: string,
    deliveryId: string,
    now = Date.now(),
  ): Promise<CommandRefusal | undefined> {
    const repo = repoScope(pr.platform, pr.repo).toLowerCase();
    const answer = await this.admit(
      redisKeys.prUserCommands(repo, pr.number, user.toLowerCase()),
      redisKeys.prCommands(repo, pr.number),
      deliveryId,
      now,
      this.options.windowSeconds * 1000,
      this.options.limit,
      this.options.perPrLimit,
    );
    return answer === 1 ? 'user' : answer === 2 ? 'pull_request' : undefined;
  }
}
