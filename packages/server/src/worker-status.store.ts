// The worker replicas' heartbeats in Redis (core's workerStatusKeys): a sorted set of replica
// names by last beat, and one expiring JSON key per replica. Workers write, the backend reads.
import {
  isStale,
  WORKER_STATUS_TTL_SECONDS,
  type WorkerReplica,
  type WorkerStatus,
  workerStatusKeys,
  workerStatusSchema,
} from '@kritik/core';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { REDIS } from './redis.js';

/** Replicas read at most: far more than any worker Deployment runs. */
export const MAX_WORKER_REPLICAS = 200;

export interface UnreadableReplica {
  readonly replica: string;
  readonly error: string;
}

@Injectable()
export class WorkerStatusStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Writes one beat; the status is validated first, so a bad one never reaches the dashboard. */
  async publish(status: WorkerStatus): Promise<void> {
    const valid = workerStatusSchema.parse(status);
    await this.redis
      .multi()
      .set(workerStatusKeys.replica(valid.replica), JSON.stringify(valid), 'EX', WORKER_STATUS_TTL_SECONDS)
      .zadd(workerStatusKeys.replicas(), Date.parse(valid.lastBeat), valid.replica)
      .exec();
  }

  /** A replica that shuts down cleanly leaves no stale entry behind. */
  async remove(replica: string): Promise<void> {
    await this.redis.multi().del(workerStatusKeys.replica(replica)).zrem(workerStatusKeys.replicas(), replica).exec();
  }

  /**
   * Every replica whose key lives, newest beat first, each marked stale or not. Index entries
   * older than the key's life are pruned; a key that does not parse is reported, not dropped.
   */
  async list(now = Date.now()): Promise<{ replicas: WorkerReplica[]; unreadable: UnreadableReplica[] }> {
    const index = workerStatusKeys.replicas();
    await this.redis.zremrangebyscore(index, '-inf', now - WORKER_STATUS_TTL_SECONDS * 1000);
    const names = await this.redis.zrevrange(index, 0, MAX_WORKER_REPLICAS - 1);
    if (names.length === 0) return { replicas: [], unreadable: [] };
    const raws = await this.redis.mget(names.map((n) => workerStatusKeys.replica(n)));
    const replicas: WorkerReplica[] = [];
    const unreadable: UnreadableReplica[] = [];
    const gone: string[] = [];
    names.forEach((replica, i) => {
      const raw = raws[i];
      if (raw === null || raw === undefined) {
        gone.push(replica);
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        unreadable.push({ replica, error: 'not JSON' });
        return;
      }
      const parsed = workerStatusSchema.safeParse(json);
      if (parsed.success) replicas.push({ ...parsed.data, stale: isStale(parsed.data, now) });
      else {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'status'}: ${i.message}`);
        unreadable.push({ replica, error: problems.join('; ').slice(0, 300) });
      }
    });
    // Expired keys leave their index entry behind; it goes with them.
    if (gone.length > 0) await this.redis.zrem(index, ...gone);
    return { replicas, unreadable };
  }
}
