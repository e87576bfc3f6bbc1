// Review records in Redis: storage only. Which moves are allowed, and when a review is
// superseded, is decided by ReviewLifecycle, the one writer; the reviews API reads here. Writes
// are compare-and-set Lua scripts, so concurrent writers (two worker replicas, the backend
// superseding a waiting review) never lose an update.
import {
  type ReviewRecord,
  type ReviewRequest,
  type ReviewResult,
  type ReviewStatus,
  redisKeys,
  repoFullName,
  reviewIndexKeys,
  reviewRecordSchema,
} from '@kritik/core';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { REDIS } from './redis.js';
import { redisScript } from './redis-script.js';

/** How long records (and their index entries) are kept after their last update. */
export const REVIEW_RETENTION_SECONDS = 30 * 24 * 3600;

export interface TransitionOptions {
  /** Only transition from one of these statuses (compare-and-set on status); the lifecycle decides them. */
  readonly from: readonly ReviewStatus[];
  readonly reason?: string;
  readonly result?: ReviewResult;
  readonly at?: Date;
}

export type TransitionOutcome =
  | { readonly ok: true; readonly record: ReviewRecord }
  | { readonly ok: false; readonly reason: 'missing' }
  | { readonly ok: false; readonly reason: 'not-allowed'; readonly record: ReviewRecord };

export interface ReviewQuery {
  readonly repo?: string;
  readonly pr?: number;
  readonly status?: ReviewStatus;
  /** At most this many records, newest first (default 50, at most 500). */
  readonly limit?: number;
}

// KEYS: record, all, pr, repo, status(queued). ARGV: json, id, score, ttl, cutoff.
const CREATE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[4]) then return 0 end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[5])
end
return 1`;

// KEYS: record, all, old status, new status. ARGV: expected json, new json, id, score, ttl.
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
if KEYS[3] ~= KEYS[4] then redis.call('ZREM', KEYS[3], ARGV[3]) end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
return 1`;

@Injectable()
export class ReviewStore {
  private readonly createScript;
  private readonly compareAndSet;

  constructor(@Inject(REDIS) private readonly redis: Redis) {
    this.createScript = redisScript(redis, 'kritikReviewCreate', 5, CREATE);
    this.compareAndSet = redisScript(redis, 'kritikReviewCompareAndSet', 4, COMPARE_AND_SET);
  }

  /** Records a new review as `queued`; an existing record with this id is left as it is. */
  async create(job: ReviewRequest, at = new Date()): Promise<{ record: ReviewRecord; created: boolean }> {
    const now = at.toISOString();
    const repo = repoFullName(job.repo);
    const record: ReviewRecord = {
      id: job.reviewId,
      platform: job.platform,
      repo,
      pr: job.pr,
      headSha: job.headSha,
      trigger: job.trigger,
      ...(job.sender ? { author: job.sender } : {}),
      status: 'queued',
      timeline: [{ status: 'queued', at: now }],
      createdAt: now,
      updatedAt: now,
    };
    const score = at.getTime();
    const created = await this.createScript(
      redisKeys.review(job.reviewId),
      redisKeys.reviewIndex(),
      redisKeys.prReviews(repo.toLowerCase(), job.pr),
      reviewIndexKeys.repo(repo),
      reviewIndexKeys.status('queued'),
      JSON.stringify(record),
      job.reviewId,
      score,
      REVIEW_RETENTION_SECONDS,
      score - REVIEW_RETENTION_SECONDS * 1000,
    );
    if (created === 1) return { record, created: true };
    const existing = await this.get(job.reviewId);
    return existing ? { record: existing, created: false } : this.create(job, at);
  }

  async get(id: string): Promise<ReviewRecord | undefined> {
    const raw = await this.redis.get(redisKeys.review(id));
    return raw === null ? undefined : reviewRecordSchema.parse(JSON.parse(raw));
  }

  /**
   * Moves a review to `status`, appending to its timeline, when its current status is one of
   * `from`; refused otherwise (ReviewLifecycle names the allowed moves).
   */
  async transition(id: string, status: ReviewStatus, options: TransitionOptions): Promise<TransitionOutcome> {
    const key = redisKeys.review(id);
    for (;;) {
      const raw = await this.redis.get(key);
      if (raw === null) return { ok: false, reason: 'missing' };
      const current = reviewRecordSchema.parse(JSON.parse(raw));
      if (!options.from.includes(current.status)) {
        return { ok: false, reason: 'not-allowed', record: current };
      }
      const at = options.at ?? new Date();
      const next: ReviewRecord = {
        ...current,
        status,
        reason: options.reason,
        timeline: [
          ...current.timeline,
          { status, at: at.toISOString(), ...(options.reason ? { reason: options.reason } : {}) },
        ],
        result: options.result ?? current.result,
        updatedAt: at.toISOString(),
      };
      if (!options.reason) delete next.reason;
      if (!next.result) delete next.result;
      const written = await this.compareAndSet(
        key,
        redisKeys.reviewIndex(),
        reviewIndexKeys.status(current.status),
        reviewIndexKeys.status(status),
        raw,
        JSON.stringify(next),
        id,
        at.getTime(),
        REVIEW_RETENTION_SECONDS,
      );
      if (written === 1) return { ok: true, record: next };
      if (written === -1) return { ok: false, reason: 'missing' };
      // Another writer changed the record between our read and write: decide again on its state.
    }
  }

  /** Records matching every given filter, newest first. */
  async list(query: ReviewQuery = {}): Promise<ReviewRecord[]> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const repo = query.repo?.toLowerCase();
    // Walk the most selective index; the other filters apply to the records read.
    const index =
      repo !== undefined && query.pr !== undefined
        ? redisKeys.prReviews(repo, query.pr)
        : query.status
          ? reviewIndexKeys.status(query.status)
          : repo !== undefined
            ? reviewIndexKeys.repo(repo)
            : redisKeys.reviewIndex();
    const matches = (r: ReviewRecord) =>
      (repo === undefined || r.repo.toLowerCase() === repo) &&
      (query.pr === undefined || r.pr === query.pr) &&
      (query.status === undefined || r.status === query.status);
    const out: ReviewRecord[] = [];
    const page = Math.max(limit, 100);
    for (let start = 0; out.length < limit && start < 10_000; start += page) {
      const ids = await this.redis.zrevrange(index, start, start + page - 1);
      if (ids.length === 0) break;
      const raws = await this.redis.mget(ids.map((id) => redisKeys.review(id)));
      const gone: string[] = [];
      raws.forEach((raw, i) => {
        if (raw === null) gone.push(ids[i]!);
        else {
          const record = reviewRecordSchema.parse(JSON.parse(raw));
          if (matches(record) && out.length < limit) out.push(record);
        }
      });
      // Expired records leave index entries behind; drop them as they are found.
      if (gone.length) await this.redis.zrem(index, ...gone);
      if (ids.length < page) break;
    }
    return out;
  }
}
