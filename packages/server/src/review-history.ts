// Reads the review history for the dashboard: filtered pages over the record indexes, the records
// changed since a moment (its live feed), and per-repository daily figures. Records themselves
// are written only through ReviewLifecycle; this module reads them and keeps the daily figures.
// Filtered pages stay fast by walking the smallest index a filter names (ADR 0042).
import {
  type Platform,
  type RepositoryDay,
  type ReviewFilters,
  type ReviewPage,
  type ReviewRecord,
  redisKeys,
  repoRefOf,
  repoScope,
  reviewIndexKeys,
  reviewRecordSchema,
  utcDay,
} from '@kritik/core';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { Redis } from 'ioredis';
import { REDIS } from './redis.js';
import { REVIEW_INDEX_VERSION } from './review.store.js';

/** One request reads at most this many index entries, a safety net under the indexes' choice. */
export const MAX_SCANNED_PER_PAGE = 20_000;

/** A reader's visible repositories are walked as one union of their indexes up to this many; beyond, all records are walked. */
export const MAX_UNION_REPOSITORIES = 64;

/** How long a completed day's figures are kept by default (the records themselves: `history.recordDays`). */
export const DAILY_FIGURES_RETENTION_DAYS = 400;

export interface ReviewHistoryOptions {
  /** Days a repository's completed daily figures are kept. */
  readonly dailyRetentionDays: number;
  /**
   * `walk`: every page walks the index of all records (or the status's) and filters each record
   * read, the only way before the repository-by-change and author indexes existed; the bench's
   * baseline. Default `indexes`, which falls back to `walk` until the start-up backfill is done.
   */
  readonly plan?: 'indexes' | 'walk';
}

/** Injection token of the {@link ReviewHistoryOptions}; the defaults apply without it. */
export const REVIEW_HISTORY_OPTIONS = 'KRITIK_REVIEW_HISTORY_OPTIONS';

const DAY_MS = 24 * 3600 * 1000;

/** Where a repository's completed days are kept (hash: day → figures JSON). */
export const dailyFiguresKey = (platform: Platform, repo: string) =>
  `kritik:repo:${repoScope(platform, repoRefOf(repo)).toLowerCase()}:days`;

/** A repository on a code host. */
export interface RepositoryRef {
  readonly platform: Platform;
  /** `owner/name` (any case). */
  readonly repo: string;
}

/**
 * The repositories a reader may see, as a hint of where to look: `all` (a machine, an admin)
 * walks every record; a list walks the union of those repositories' indexes. However the list is
 * produced (GitHub installations, GitLab memberships), `canSee` still decides each record.
 */
export type VisibleRepositories = readonly RepositoryRef[] | 'all';

export interface PageQuery extends ReviewFilters {
  /** Whether the reader may see a repository's records; the others are passed over unseen. The final check. */
  readonly canSee: (platform: Platform, repo: string) => boolean;
  /** Where the reader's records can be; `all` when absent. */
  readonly visible?: VisibleRepositories;
}

/** How many Redis round trips a page took, and index entries it read: the bench's figures. */
export interface PageStats {
  roundTrips: number;
  scanned: number;
}

interface Entry {
  readonly id: string;
  readonly score: number;
}

// Newest change first; ties (one millisecond) by id, descending, as ZREVRANGEBYSCORE returns them.
const before = (a: Entry, b: Entry) =>
  a.score !== b.score ? b.score - a.score : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

const decodeCursor = (cursor: string): Entry => {
  const dot = cursor.indexOf('.');
  return { score: Number(cursor.slice(0, dot)), id: cursor.slice(dot + 1) };
};

@Injectable()
export class ReviewHistory {
  private readonly retentionDays: number;
  private readonly plan: 'indexes' | 'walk';
  private indexesReady = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Optional() @Inject(REVIEW_HISTORY_OPTIONS) options?: ReviewHistoryOptions,
  ) {
    this.retentionDays = options?.dailyRetentionDays ?? DAILY_FIGURES_RETENTION_DAYS;
    this.plan = options?.plan ?? 'indexes';
  }

  /**
   * One page of records, most recently changed first. Every index is scored by last change, so
   * the page walks the smallest of the indexes the filters name (repository, author, status, or
   * the union of the reader's visible repositories; all records when none), drops the entries
   * missing from the other named indexes by their scores alone (ZMSCORE), and reads only the
   * records left; dates, visibility and the rest are then checked on each record.
   */
  async page(query: PageQuery, stats: PageStats = { roundTrips: 0, scanned: 0 }): Promise<ReviewPage> {
    const limit = query.limit ?? 50;
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

    const visible = query.visible === undefined || query.visible === 'all' ? undefined : query.visible;
    if (visible && repo !== undefined && !visible.some((v) => v.repo.toLowerCase() === repo)) return { reviews: [] };
    const { walk, members } = await this.choose(query, repo, author, visible, stats);

    let cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const out: ReviewRecord[] = [];
    // A record changes after it is created, so its index score (last change) is never below its
    // creation: `from` bounds the walk, `to` cannot.
    const min = fromMs ?? '-inf';
    while (out.length < limit && stats.scanned < MAX_SCANNED_PER_PAGE) {
      const batch = Math.min(Math.max(limit * 2, 100), MAX_SCANNED_PER_PAGE - stats.scanned);
      const { entries, complete } = await this.read(walk, cursor, min, batch, stats);
      if (entries.length === 0) return { reviews: out };
      const kept = await this.members(entries, members, stats);
      const records = await this.records(kept.map((e) => e.id));
      stats.roundTrips += kept.length > 0 ? 1 : 0;
      const byId = new Map(kept.map((e, i) => [e.id, records[i]]));
      for (const entry of entries) {
        cursor = entry;
        stats.scanned++;
        const record = byId.get(entry.id);
        if (record && matches(record)) {
          out.push(record);
          if (out.length === limit) break;
        }
      }
      if (complete && cursor === entries[entries.length - 1] && out.length < limit) return { reviews: out };
    }
    return { reviews: out, ...(cursor ? { next: `${cursor.score}.${cursor.id}` } : {}) };
  }

  /** Which indexes a page walks (one, or a union) and which others its entries must be in. */
  private async choose(
    query: PageQuery,
    repo: string | undefined,
    author: string | undefined,
    visible: readonly RepositoryRef[] | undefined,
    stats: PageStats,
  ): Promise<{ walk: readonly string[]; members: readonly string[] }> {
    const statusIndex = query.status ? reviewIndexKeys.status(query.status) : undefined;
    if (this.plan === 'walk' || !(await this.indexed(stats)))
      return { walk: [statusIndex ?? redisKeys.reviewIndex()], members: [] };
    const named = [
      ...(repo !== undefined ? [reviewIndexKeys.repo(repo)] : []),
      ...(author !== undefined ? [reviewIndexKeys.author(author)] : []),
      ...(statusIndex ? [statusIndex] : []),
    ];
    const union =
      visible && repo === undefined && visible.length <= MAX_UNION_REPOSITORIES
        ? [...new Set(visible.map((v) => reviewIndexKeys.repo(v.repo)))]
        : undefined;
    const candidates: (readonly string[])[] = [...named.map((key) => [key]), ...(union ? [union] : [])];
    if (candidates.length === 0) return { walk: [redisKeys.reviewIndex()], members: [] };
    if (candidates.length === 1) return { walk: candidates[0]!, members: [] };
    const multi = this.redis.multi();
    for (const keys of candidates) for (const key of keys) multi.zcard(key);
    const cards = ((await multi.exec()) ?? []).map(([, n]) => Number(n));
    stats.roundTrips++;
    const sizes: number[] = [];
    for (const keys of candidates) sizes.push(cards.splice(0, keys.length).reduce((a, b) => a + b, 0));
    const smallest = sizes.indexOf(Math.min(...sizes));
    return { walk: candidates[smallest]!, members: named.filter((key) => key !== candidates[smallest]![0]) };
  }

  /** Whether the start-up backfill has brought every record into the current indexes. */
  private async indexed(stats: PageStats): Promise<boolean> {
    if (this.indexesReady) return true;
    stats.roundTrips++;
    this.indexesReady = (await this.redis.get(reviewIndexKeys.version())) === REVIEW_INDEX_VERSION;
    return this.indexesReady;
  }

  /**
   * The next entries after `cursor` of the union of `keys`, in page order, and whether they are
   * all there are. Entries tied with the cursor's score are read apart (ties share a millisecond,
   * so they are few), so paging never skips or repeats one however many there are.
   */
  private async read(
    keys: readonly string[],
    cursor: Entry | undefined,
    min: number | string,
    batch: number,
    stats: PageStats,
  ): Promise<{ entries: Entry[]; complete: boolean }> {
    const multi = this.redis.multi();
    for (const key of keys) {
      if (cursor) multi.zrevrangebyscore(key, cursor.score, cursor.score, 'WITHSCORES');
      multi.zrevrangebyscore(key, cursor ? `(${cursor.score}` : '+inf', min, 'WITHSCORES', 'LIMIT', 0, batch);
    }
    const replies = ((await multi.exec()) ?? []).map(([error, raw]) => {
      if (error) throw error;
      return raw as string[];
    });
    stats.roundTrips++;
    const entries: Entry[] = [];
    // The union is complete down to the highest last entry of any truncated index.
    let frontier: Entry | undefined;
    let r = 0;
    for (let k = 0; k < keys.length; k++) {
      if (cursor) {
        const ties = replies[r++]!;
        for (let i = 0; i < ties.length; i += 2)
          if (ties[i]! < cursor.id) entries.push({ id: ties[i]!, score: cursor.score });
      }
      const raw = replies[r++]!;
      for (let i = 0; i < raw.length; i += 2) entries.push({ id: raw[i]!, score: Number(raw[i + 1]) });
      if (raw.length / 2 === batch) {
        const last = { id: raw[raw.length - 2]!, score: Number(raw[raw.length - 1]) };
        if (!frontier || before(frontier, last) > 0) frontier = last;
      }
    }
    entries.sort(before);
    const within = frontier ? entries.filter((e) => before(e, frontier) <= 0) : entries;
    return { entries: within.slice(0, batch), complete: !frontier && within.length <= batch };
  }

  /** The entries present in every one of `indexes`, read by score, without reading records. */
  private async members(entries: readonly Entry[], indexes: readonly string[], stats: PageStats): Promise<Entry[]> {
    if (indexes.length === 0) return [...entries];
    const ids = entries.map((e) => e.id);
    const multi = this.redis.multi();
    for (const key of indexes) multi.zmscore(key, ...ids);
    const scores = ((await multi.exec()) ?? []).map(([, s]) => s as (string | null)[]);
    stats.roundTrips++;
    return entries.filter((_, i) => scores.every((s) => s[i] !== null));
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
  async daily(platform: Platform, repo: string, days: number, now = new Date()): Promise<RepositoryDay[]> {
    const today = utcDay(now.getTime());
    const wanted = Array.from({ length: days }, (_, i) => utcDay(now.getTime() - (days - 1 - i) * DAY_MS));
    const key = dailyFiguresKey(platform, repo);
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
        // The repository index is by path: another code host's project of the same path shares it.
        const day = record?.platform === platform ? computed.get(utcDay(record.createdAt)) : undefined;
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

  /** The repository's latest failed reviews, newest first (the smaller of its index and the failed one is walked). */
  async lastFailures(platform: Platform, repo: string, count = 5): Promise<ReviewRecord[]> {
    const page = await this.page({ repo, status: 'failed', limit: count, canSee: (p) => p === platform });
    return page.reviews;
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
