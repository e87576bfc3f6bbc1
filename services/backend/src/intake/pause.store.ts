// Whether automatic reviews of a pull request are paused (`@<bot> pause` / `@<bot> resume`): one
// key per pull request in Redis, the one owner of that state; reviews a person asks for still run.
import { redisKeys, repoScope } from '@kritik/core';
import type { Redis } from 'ioredis';
import type { PullRequestRef } from './intake.event.js';

/** A pause outlives any pull request worth reviewing, and then lapses instead of piling up. */
export const PAUSE_TTL_SECONDS = 180 * 24 * 3600;

const keyOf = (pr: PullRequestRef) => redisKeys.prPaused(repoScope(pr.platform, pr.repo).toLowerCase(), pr.number);

export class PauseStore {
  constructor(private readonly redis: Redis) {}

  async pause(pr: PullRequestRef, by: string): Promise<void> {
    await this.redis.set(keyOf(pr), by, 'EX', PAUSE_TTL_SECONDS);
  }

  async resume(pr: PullRequestRef): Promise<void> {
    await this.redis.del(keyOf(pr));
  }

  /** Who paused the pull request, or null when its automatic reviews run. */
  pausedBy(pr: PullRequestRef): Promise<string | null> {
    return this.redis.get(keyOf(pr));
  }
}
