// Review records in Redis: storage only. Which moves are allowed, and when a review is
// superseded, is decided by ReviewLifecycle, the one writer; the reviews API reads here. Writes
// are compare-and-set Lua scripts, so concurrent writers (two worker replicas, the backend
// superseding a waiting review) never lose an update.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  REVIEW_RETENTION_DAYS,
  REVIEW_STATUSES,
  type ReviewRecord,
  type ReviewRequest,
  type ReviewResult,
  type ReviewStatus,
  redisKeys,
  repoFullName,
  reviewIndexKeys,
  reviewRecordSchema,
} from '@kritik/core';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { Redis } from 'ioredis';
import { REDIS } from './redis.js';
import { redisScript } from './redis-script.js';

/** How long records (and their index entries) are kept after their last update, unless configured. */
export const REVIEW_RETENTION_SECONDS = REVIEW_RETENTION_DAYS.default * 24 * 3600;

export interface ReviewStoreOptions {
  /** Days a record and its index entries are kept after its last change (the `history.recordDays` setting). */
  readonly retentionDays: number;
}

/** Injection token of the {@link ReviewStoreOptions}; the 30-day default applies without it. */
export const REVIEW_STORE_OPTIONS = 'KRITIK_REVIEW_STORE_OPTIONS';

/** A failed backfill (Redis lost meanwhile) is tried again after this long. */
const BACKFILL_RETRY_MS = 5_000;

/** The generation of the indexes this code writes: 2 added the author index and rescored the repository index by last change. */
export const REVIEW_INDEX_VERSION = '2';

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

// Every index a write touches is trimmed of entries older than the retention (their records have
// expired) and lives at least as long as its newest record: an index nobody writes to any more
// expires with its last record, so no sweep is needed. A TTL is never shortened, so lowering the
// retention cannot drop an index before records kept under the older, longer one.
const KEEP_INDEX = `
local function keep(key, id, score, ttl, cutoff)
  redis.call('ZADD', key, score, id)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  if redis.call('TTL', key) < tonumber(ttl) then redis.call('EXPIRE', key, ttl) end
end`;

// KEYS: record, then every index (all, pr, repo, status(queued), [author]). ARGV: json, id, score, ttl, cutoff.
const CREATE = `${KEEP_INDEX}
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[4]) then return 0 end
for i = 2, #KEYS do keep(KEYS[i], ARGV[2], ARGV[3], ARGV[4], ARGV[5]) end
return 1`;

// KEYS: record, old status, then every index the record is in now (new status, all, repo, [author]).
// ARGV: expected json, new json, id, score, ttl, cutoff.
const COMPARE_AND_SET = `${KEEP_INDEX}
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[5])
if KEYS[2] ~= KEYS[3] then redis.call('ZREM', KEYS[2], ARGV[3]) end
for i = 3, #KEYS do keep(KEYS[i], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) end
return 1`;

/** The indexes a record is in besides its status's and its pull request's: all records, its repository's, its author's. */
const recordIndexes = (record: Pick<ReviewRecord, 'repo' | 'author'>): string[] => [
  redisKeys.reviewIndex(),
  reviewIndexKeys.repo(record.repo),
  ...(record.author ? [reviewIndexKeys.author(record.author)] : []),
];

@Injectable()
export class ReviewStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly createScript;
  private stopped = false;
  private readonly compareAndSet;
  /** Seconds a record and its index entries are kept after its last change. */
  readonly retentionSeconds: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Optional() @Inject(REVIEW_STORE_OPTIONS) options?: ReviewStoreOptions,
  ) {
    this.retentionSeconds = options ? options.retentionDays * 24 * 3600 : REVIEW_RETENTION_SECONDS;
    this.createScript = redisScript(redis, 'kritikReviewCreate2', undefined, CREATE);
    this.compareAndSet = redisScript(redis, 'kritikReviewCompareAndSet2', undefined, COMPARE_AND_SET);
  }

  /**
   * Records written before the current index generation are indexed after start (once per
   * Redis), in the background: Redis may not be reachable yet, and until it is done the history
   * walks the index of all records, which every record is in.
   */
  onApplicationBootstrap(): void {
    void this.backfillInBackground();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  private async backfillInBackground(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.redis.status !== 'ready') await once(this.redis, 'ready');
        if (!this.stopped) await this.backfill();
        return;
      } catch {
        // Redis went away meanwhile: the walk keeps pages right until the next attempt.
        await sleep(BACKFILL_RETRY_MS, undefined, { ref: false });
      }
    }
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
    const keys = [
      redisKeys.review(job.reviewId),
      redisKeys.prReviews(repo.toLowerCase(), job.pr),
      reviewIndexKeys.status('queued'),
      ...recordIndexes(record),
    ];
    const created = await this.createScript(
      keys.length,
      ...keys,
      JSON.stringify(record),
      job.reviewId,
      score,
      this.retentionSeconds,
      score - this.retentionSeconds * 1000,
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
      const keys = [
        key,
        reviewIndexKeys.status(current.status),
        reviewIndexKeys.status(status),
        ...recordIndexes(current),
      ];
      const written = await this.compareAndSet(
        keys.length,
        ...keys,
        raw,
        JSON.stringify(next),
        id,
        at.getTime(),
        this.retentionSeconds,
        at.getTime() - this.retentionSeconds * 1000,
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
  /**
   * Brings records written by earlier versions into the current indexes: each live record's
   * repository index entry is rescored by its last change and its author index entry added, ids
   * of expired records leave the index of all records and the status indexes, and every review index gets the trim and
   * TTL that writes keep from now on. Idempotent; runs once per Redis (a version key), in batches,
   * so 100,000 records take seconds. Returns how many records it indexed.
   */
  async backfill(batch = 1_000): Promise<number> {
    if ((await this.redis.get(reviewIndexKeys.version())) === REVIEW_INDEX_VERSION) return 0;
    const all = redisKeys.reviewIndex();
    let indexed = 0;
    const gone: string[] = [];
    for (let start = 0; ; start += batch) {
      const ids = await this.redis.zrange(all, start, start + batch - 1);
      if (ids.length === 0) break;
      const records = await this.redis.mget(ids.map((id) => redisKeys.review(id)));
      const multi = this.redis.multi();
      for (const [i, json] of records.entries()) {
        if (json === null) {
          gone.push(ids[i]!);
          continue;
        }
        const record = parseRecord(json);
        // A record no reader can parse is left out of the new indexes rather than stopping the backfill for ever.
        if (!record) continue;
        const score = Date.parse(record.updatedAt);
        for (const index of recordIndexes(record).slice(1)) multi.zadd(index, score, record.id);
        indexed++;
      }
      await multi.exec();
      if (ids.length < batch) break;
    }
    // Removed after the walk, which goes by rank; an expired record's status is unknown, so from each.
    for (let i = 0; i < gone.length; i += batch) {
      const ids = gone.slice(i, i + batch);
      const multi = this.redis.multi().zrem(all, ...ids);
      for (const status of REVIEW_STATUSES) multi.zrem(reviewIndexKeys.status(status), ...ids);
      await multi.exec();
    }
    const cutoff = Date.now() - this.retentionSeconds * 1000;
    for (const match of [
      reviewIndexKeys.repo('*'),
      reviewIndexKeys.author('*'),
      reviewIndexKeys.status('*' as ReviewStatus),
      all,
    ]) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1_000);
        cursor = next;
        const multi = this.redis.multi();
        for (const key of keys) multi.zremrangebyscore(key, '-inf', cutoff).ttl(key);
        const ttls = ((await multi.exec()) ?? []).filter((_, i) => i % 2 === 1).map(([, ttl]) => Number(ttl));
        // EXPIRE NX needs Redis 7; Kritik runs on 6.2: a key without a TTL (-1) gets one.
        const persistent = keys.filter((_, i) => ttls[i] === -1);
        if (persistent.length > 0) {
          const expire = this.redis.multi();
          for (const key of persistent) expire.expire(key, this.retentionSeconds);
          await expire.exec();
        }
      } while (cursor !== '0');
    }
    await this.redis.set(reviewIndexKeys.version(), REVIEW_INDEX_VERSION);
    return indexed;
  }
}

function parseRecord(json: string): ReviewRecord | undefined {
  try {
    const parsed = reviewRecordSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
