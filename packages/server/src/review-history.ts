// Reads the review history for the dashboard: filtered pages over the record indexes, the records
// changed since a moment (its live feed), and per-repository daily figures. Records themselves
// are written only through ReviewLifecycle; this module reads them and keeps the daily figures.
import {
  type Platform,
  type RepositoryDay,
  type ReviewFilters,
  type ReviewPage,
  type ReviewRecord,
  redisKeys,
  reviewIndexKeys,
  reviewRecordSchema,
  utcDay,
} from '@kritik/core';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { Redis } from 'ioredis';
import { REDIS } from './redis.js';

/** One request reads at most this many index entries, so a selective filter cannot make it scan everything. */
export const MAX_SCANNED_PER_PAGE = 20_000;

/** How long a completed day's figures are kept by default (the records themselves: 30 days). */
export const DAILY_FIGURES_RETENTION_DAYS = 400;

export interface ReviewHistoryOptions {
  /** Days a repository's completed daily figures are kept. */
  readonly dailyRetentionDays: number;
}

/** Injection token of the {@link ReviewHistoryOptions}; the defaults apply without it. */
export const REVIEW_HISTORY_OPTIONS = 'KRITIK_REVIEW_HISTORY_OPTIONS';

const DAY_MS = 24 * 3600 * 1000;

/** Where a repository's completed days are kept (hash: day → figures JSON). */
export const dailyFiguresKey = (repo: string) => `kritik:repo:${repo.toLowerCase()}:days`;

export interface PageQuery extends ReviewFilters {
  /** Whether the reader may see a repository's records; the others are passed over unseen. */
  readonly canSee: (platform: Platform, repo: string) => boolean;
}

const decodeCursor = (cursor: string) => {
  const dot = cursor.indexOf('.');
  return { score: Number(cursor.slice(0, dot)), id: cursor.slice(dot + 1) };
};

@Injectable()
export class ReviewHistory {
  private readonly retentionDays: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Optional() @Inject(REVIEW_HISTORY_OPTIONS) options?: ReviewHistoryOptions,
  ) {
    this.retentionDays = options?.dailyRetentionDays ?? DAILY_FIGURES_RETENTION_DAYS;
  }

  /**
   * One page of records, most recently changed first. The index walked is the status's when a
   * status is asked for, else the index of all records; the other filters apply to the records.
   */
  async page(query: PageQuery): Promise<ReviewPage> {
    const limit = query.limit ?? 50;
    const index = query.status ? reviewIndexKeys.status(query.status) : redisKeys.reviewIndex();
    const repo = query.repo?.toLowerCase();
    const author = query.author?.toLowerCase();
    const fromMs = query.from ? Date.parse(`${query.from}T00:00:00Z`) : undefined;
    const toMs = query.to ? Date.parse(`${query.to}T00:00:00Z`) + DAY_MS : undefined;
    const matches = (r: ReviewRecord) =>
      query.canSee(r.platform, r.repo) &&
      (repo === undefined || r.repo.toLowerCase() === repo) &&
      (query.status === undefined || r.status === query.status) &&
      (author === undefined || r.author?.toLowerCase() === author) &&
      (fromMs === undefined || Date.parse(r.createdAt) >= fromMs) &&
      (toMs === undefined || Date.parse(r.createdAt) < toMs);

    let cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const out: ReviewRecord[] = [];
    let scanned = 0;
    // A record changes after it is created, so its index score (last change) is never below its
    // creation: `from` bounds the walk, `to` cannot.
    const min = fromMs ?? '-inf';
    while (out.length < limit && scanned < MAX_SCANNED_PER_PAGE) {
      const batch = Math.min(Math.max(limit * 2, 100), MAX_SCANNED_PER_PAGE - scanned);
      const max = cursor ? cursor.score : '+inf';
      // Entries with the cursor's score and an id at or after it were on earlier pages; read
      // enough past them (ties share a millisecond, rarely more than a few).
      const raw = await this.redis.zrevrangebyscore(index, max, min, 'WITHSCORES', 'LIMIT', 0, batch + 50);
      const entries: { id: string; score: number }[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const entry = { id: raw[i]!, score: Number(raw[i + 1]) };
        if (cursor && entry.score === cursor.score && entry.id >= cursor.id) continue;
        entries.push(entry);
      }
      if (entries.length === 0) return { reviews: out };
      const taken = entries.slice(0, batch);
      const records = await this.records(taken.map((e) => e.id));
      for (let i = 0; i < taken.length; i++) {
        const record = records[i];
        cursor = taken[i]!;
        scanned++;
        if (record && matches(record)) {
          out.push(record);
          if (out.length === limit) break;
        }
      }
      const exhausted = raw.length / 2 < batch + 50 && entries.length <= batch;
      if (exhausted && cursor === taken[taken.length - 1] && out.length < limit) {
        return { reviews: out };
      }
    }
    return { reviews: out, ...(cursor ? { next: `${cursor.score}.${cursor.id}` } : {}) };
  }

  /** Records changed after `sinceMs` (exclusive), oldest change first, with the latest change time seen. */
  async changedSince(sinceMs: number, max = 500): Promise<{ records: ReviewRecord[]; until: number }> {
    const raw = await this.redis.zrangebyscore(
      redisKeys.reviewIndex(),
      `(${sinceMs}`,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      0,
      max,
    );
    let until = sinceMs;
    const ids: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      ids.push(raw[i]!);
      until = Math.max(until, Number(raw[i + 1]));
    }
    const records = (await this.records(ids)).filter((r): r is ReviewRecord => r !== undefined);
    return { records, until };
  }

  /**
   * A repository's figures for each of the `days` UTC days up to `now`'s, oldest first. Completed
   * days are computed once from the records and kept (past the records' own retention); today's
   * is computed on each call.
   */
  async daily(repo: string, days: number, now = new Date()): Promise<RepositoryDay[]> {
    const today = utcDay(now.getTime());
    const wanted = Array.from({ length: days }, (_, i) => utcDay(now.getTime() - (days - 1 - i) * DAY_MS));
    const key = dailyFiguresKey(repo);
    const stored = await this.redis.hmget(key, ...wanted);
    const figures = new Map<string, RepositoryDay>();
    stored.forEach((json, i) => {
      if (json !== null) figures.set(wanted[i]!, JSON.parse(json) as RepositoryDay);
    });
    const missing = wanted.filter((d) => !figures.has(d) || d === today);
    if (missing.length > 0) {
      const start = Date.parse(`${missing[0]}T00:00:00Z`);
      const ids = await this.redis.zrangebyscore(reviewIndexKeys.repo(repo), start, '+inf');
      const computed = new Map(missing.map((d) => [d, emptyDay(d)]));
      for (const record of await this.records(ids)) {
        const day = record && computed.get(utcDay(record.createdAt));
        if (!record || !day) continue;
        day.reviews++;
        if (record.status === 'posted' || record.status === 'skipped' || record.status === 'failed')
          day[record.status]++;
        day.costUsd += record.result?.costUsd ?? 0;
        const t = record.result?.tokens;
        day.tokens += t ? t.input + t.output + t.cacheRead + t.cacheWrite : 0;
      }
      const completed = [...computed.values()].filter((d) => d.day !== today);
      if (completed.length > 0) {
        const oldest = utcDay(now.getTime() - this.retentionDays * DAY_MS);
        const stale = (await this.redis.hkeys(key)).filter((d) => d < oldest);
        const multi = this.redis
          .multi()
          .hset(key, Object.fromEntries(completed.map((d) => [d.day, JSON.stringify(d)])));
        if (stale.length > 0) multi.hdel(key, ...stale);
        await multi.expire(key, this.retentionDays * 24 * 3600).exec();
      }
      for (const [d, f] of computed) figures.set(d, f);
    }
    return wanted.map((d) => figures.get(d) ?? emptyDay(d));
  }

  /** The repository's latest failed reviews, newest first. */
  async lastFailures(repo: string, count = 5): Promise<ReviewRecord[]> {
    const ids = await this.redis.zrevrange(reviewIndexKeys.status('failed'), 0, 999);
    const out: ReviewRecord[] = [];
    for (const record of await this.records(ids)) {
      if (record && record.repo.toLowerCase() === repo.toLowerCase()) out.push(record);
      if (out.length === count) break;
    }
    return out;
  }

  private async records(ids: readonly string[]): Promise<(ReviewRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => redisKeys.review(id)));
    return raws.map((raw) => (raw === null ? undefined : reviewRecordSchema.parse(JSON.parse(raw))));
  }
}

const emptyDay = (day: string): RepositoryDay => ({
  day,
  reviews: 0,
  posted: 0,
  skipped: 0,
  failed: 0,
  costUsd: 0,
  tokens: 0,
});
