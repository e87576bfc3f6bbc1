import {
  type ReviewRecord,
  type ReviewRequest,
  type ReviewStatus,
  redisKeys,
  reviewIdFor,
  reviewIndexKeys,
} from '@kritik/core';
import { postedResult, startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { ReviewStore } from './review.store.js';
import {
  dailyFiguresKey,
  MAX_SCANNED_PER_PAGE,
  MAX_UNION_REPOSITORIES,
  type PageQuery,
  type PageStats,
  ReviewHistory,
} from './review-history.js';

const job = (pr: number, repo = 'acme/api', sender = 'alice'): ReviewRequest => {
  const [owner, name] = repo.split('/') as [string, string];
  const headSha = pr.toString(16).padStart(40, '0');
  return {
    reviewId: reviewIdFor('github', { owner, name }, pr, headSha),
    platform: 'github',
    repo: { owner, name },
    pr,
    headSha,
    trigger: 'opened',
    sender,
    enqueuedAt: new Date().toISOString(),
  };
};
const all = () => true;
const prs = (records: ReviewRecord[]) => records.map((r) => r.pr);

describe(ReviewHistory.name, () => {
  let redis: TestRedis;
  let client: Redis;
  let store: ReviewStore;
  let sut: ReviewHistory;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    store = new ReviewStore(client);
    sut = new ReviewHistory(client);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });
  beforeEach(async () => {
    await client.flushall();
    await store.backfill();
  });

  it('pages records changed in the same millisecond each exactly once', async () => {
    const at = new Date('2030-01-01T00:00:00Z');
    for (let pr = 1; pr <= 7; pr++) await store.create(job(pr), at);
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await sut.page({ limit: 3, canSee: all, ...(cursor ? { cursor } : {}) });
      seen.push(...prs(page.reviews));
      cursor = page.next;
    } while (cursor);
    expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('answers no cursor on the last page', async () => {
    await store.create(job(1));
    expect(await sut.page({ limit: 5, canSee: all })).toEqual({ reviews: [expect.objectContaining({ pr: 1 })] });
  });

  it('passes over records the reader cannot see, without naming them', async () => {
    await store.create(job(1, 'acme/api'));
    await store.create(job(2, 'acme/secret'));
    const page = await sut.page({ canSee: (_platform, repo) => repo === 'acme/api' });
    expect(prs(page.reviews)).toEqual([1]);
    expect(JSON.stringify(page)).not.toContain('secret');
  });

  it('stops a selective walk at its scan bound with a cursor to go on', async () => {
    const batch = client.pipeline();
    for (let i = 0; i < MAX_SCANNED_PER_PAGE + 10; i++)
      batch.zadd(redisKeys.reviewIndex(), i + 1, `gone${String(i).padStart(6, '0')}`);
    await batch.exec();
    const page = await sut.page({ canSee: all });
    expect(page.reviews).toEqual([]);
    expect(page.next).toMatch(/^\d+\.[0-9a-z]+$/);
    expect(await sut.page({ canSee: all, cursor: page.next! })).toEqual({ reviews: [] });
  });

  it('reports records changed after a moment, with the latest change time', async () => {
    const { record } = await store.create(job(1), new Date(1_000));
    await store.transition(record.id, 'running', { from: ['queued'], at: new Date(5_000) });
    await store.create(job(2), new Date(2_000));
    const sut2 = await sut.changedSince(1_500);
    expect(prs(sut2.records).sort()).toEqual([1, 2]);
    expect(sut2.until).toBe(5_000);
    expect((await sut.changedSince(5_000)).records).toEqual([]);
  });

  it('counts reviews, outcomes, cost and tokens per day, zeros included', async () => {
    const now = new Date('2030-01-10T12:00:00Z');
    const a = (await store.create(job(1), new Date('2030-01-09T08:00:00Z'))).record;
    await store.transition(a.id, 'posted', {
      from: ['queued'],
      at: new Date('2030-01-09T08:05:00Z'),
      result: postedResult({ costUsd: 0.25, tokens: { input: 1000, output: 100, cacheRead: 10, cacheWrite: 1 } }),
    });
    await store.create(job(2), new Date('2030-01-10T08:00:00Z'));
    const days = await sut.daily('github', 'acme/api', 3, now);
    expect(days).toEqual([
      { day: '2030-01-08', reviews: 0, posted: 0, skipped: 0, failed: 0, costUsd: 0, tokens: 0 },
      { day: '2030-01-09', reviews: 1, posted: 1, skipped: 0, failed: 0, costUsd: 0.25, tokens: 1111 },
      { day: '2030-01-10', reviews: 1, posted: 0, skipped: 0, failed: 0, costUsd: 0, tokens: 0 },
    ]);
  });

  it('keeps a completed day once computed, after its records expire', async () => {
    const now = new Date('2030-01-10T12:00:00Z');
    const { record } = await store.create(job(1), new Date('2030-01-09T08:00:00Z'));
    await sut.daily('github', 'acme/api', 2, now);
    await client.del(redisKeys.review(record.id));
    expect((await sut.daily('github', 'acme/api', 2, now))[0]).toMatchObject({ day: '2030-01-09', reviews: 1 });
    expect(await client.ttl(dailyFiguresKey('github', 'acme/api'))).toBeGreaterThan(300 * 24 * 3600);
  });

  it('drops daily figures older than the configured retention', async () => {
    const short = new ReviewHistory(client, { dailyRetentionDays: 5 });
    await client.hset(dailyFiguresKey('github', 'acme/api'), '2029-12-01', '{}');
    await store.create(job(1), new Date('2030-01-09T08:00:00Z'));
    await short.daily('github', 'acme/api', 2, new Date('2030-01-10T12:00:00Z'));
    expect(await client.hkeys(dailyFiguresKey('github', 'acme/api'))).toEqual(['2030-01-09']);
    expect(await client.ttl(dailyFiguresKey('github', 'acme/api'))).toBeLessThanOrEqual(5 * 24 * 3600);
  });

  it('lists the repository latest failures only', async () => {
    const a = (await store.create(job(1, 'acme/api'))).record;
    const b = (await store.create(job(2, 'acme/web'))).record;
    for (const r of [a, b]) await store.transition(r.id, 'failed', { from: ['queued'], reason: 'boom' });
    expect(prs(await sut.lastFailures('github', 'ACME/api'))).toEqual([1]);
  });

  it('keeps a GitLab project apart from a GitHub repository of the same path', async () => {
    const now = new Date('2030-01-10T12:00:00Z');
    const gitlab = (pr: number): ReviewRequest => {
      const request = job(pr);
      return { ...request, platform: 'gitlab', reviewId: reviewIdFor('gitlab', request.repo, pr, request.headSha) };
    };
    const github = (await store.create(job(1), new Date('2030-01-09T08:00:00Z'))).record;
    const lab = (await store.create(gitlab(2), new Date('2030-01-09T09:00:00Z'))).record;
    await store.create(gitlab(3), new Date('2030-01-09T10:00:00Z'));
    for (const r of [github, lab])
      await store.transition(r.id, 'failed', {
        from: ['queued'],
        reason: 'boom',
        at: new Date('2030-01-09T11:00:00Z'),
      });

    expect((await sut.daily('github', 'acme/api', 2, now))[0]).toMatchObject({ reviews: 1, failed: 1 });
    expect((await sut.daily('gitlab', 'acme/api', 2, now))[0]).toMatchObject({ reviews: 2, failed: 1 });
    expect(dailyFiguresKey('gitlab', 'acme/api')).not.toBe(dailyFiguresKey('github', 'acme/api'));
    expect(prs(await sut.lastFailures('github', 'acme/api'))).toEqual([1]);
    expect(prs(await sut.lastFailures('gitlab', 'acme/api'))).toEqual([2]);
  });

  describe('filtered pages', () => {
    const t0 = Date.UTC(2030, 0, 1);
    const repos = ['acme/api', 'acme/web', 'acme/cli', 'beta/app', 'beta/lib'];
    const authors = ['alice', 'bob', 'carol'];
    const endings: ReviewStatus[] = ['posted', 'skipped', 'failed'];
    /** 120 records over 5 repositories, 3 authors and every status, two of each millisecond. */
    const seed = async () => {
      for (let pr = 1; pr <= 120; pr++) {
        const { record } = await store.create(
          job(pr, repos[pr % repos.length], authors[pr % authors.length]),
          new Date(t0 + Math.floor(pr / 2) * 3_600_000),
        );
        if (pr % 4 !== 0)
          await store.transition(record.id, pr % 4 === 1 ? 'running' : endings[pr % endings.length]!, {
            from: ['queued'],
            at: new Date(t0 + Math.floor(pr / 2) * 3_600_000 + (pr % 3) * 60_000),
          });
      }
    };
    const everything = async (history: ReviewHistory, query: Omit<PageQuery, 'limit'>, limit = 7) => {
      const out: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await history.page({ ...query, limit, ...(cursor ? { cursor } : {}) });
        out.push(...prs(page.reviews));
        cursor = page.next;
      } while (cursor);
      return out;
    };

    it.each<[string, Omit<PageQuery, 'limit'>]>([
      ['repository', { repo: 'ACME/web', canSee: all }],
      ['author', { author: 'Bob', canSee: all }],
      ['repository and status', { repo: 'acme/api', status: 'posted', canSee: all }],
      ['author and status', { author: 'carol', status: 'failed', canSee: all }],
      [
        'repository, author, status and dates',
        { repo: 'beta/app', author: 'alice', status: 'running', from: '2030-01-02', to: '2030-01-03', canSee: all },
      ],
      [
        'visible repositories',
        {
          visible: [
            { platform: 'github', repo: 'acme/cli' },
            { platform: 'github', repo: 'Beta/Lib' },
          ],
          canSee: (_p, r) => ['acme/cli', 'beta/lib'].includes(r),
        },
      ],
      [
        'visible repositories and author',
        { author: 'alice', visible: [{ platform: 'github', repo: 'acme/api' }], canSee: (_p, r) => r === 'acme/api' },
      ],
      ['status over all records', { status: 'skipped', canSee: all }],
    ])('pages by %s exactly as walking every record does', async (_name, query) => {
      await seed();
      const walked = await everything(
        new ReviewHistory(client, { dailyRetentionDays: 400, plan: 'walk' }),
        query,
        1_000,
      );
      expect(walked.length).toBeGreaterThan(0);
      expect(await everything(sut, query)).toEqual(walked);
    });

    it('pages a union of repositories changed in the same millisecond each exactly once', async () => {
      const at = new Date(t0);
      for (let pr = 1; pr <= 12; pr++) await store.create(job(pr, repos[pr % 3]), at);
      const visible = repos.slice(0, 3).map((repo) => ({ platform: 'github' as const, repo }));
      const seen = await everything(sut, { visible, canSee: all }, 5);
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    });

    it('fills a page from a rare repository beyond the scan bound, reading few entries', async () => {
      for (let pr = 1; pr <= 60; pr++) await store.create(job(pr, 'acme/rare'), new Date(t0 + pr));
      const busy = [];
      for (let pr = 1; pr <= MAX_SCANNED_PER_PAGE + 1_000; pr++)
        busy.push(store.create(job(pr, 'acme/busy'), new Date(t0 + 1_000 + pr)));
      await Promise.all(busy);
      const stats: PageStats = { roundTrips: 0, scanned: 0 };
      const page = await sut.page({ repo: 'acme/rare', limit: 50, canSee: all }, stats);
      expect(prs(page.reviews)).toEqual(Array.from({ length: 50 }, (_, i) => 60 - i));
      expect(stats.scanned).toBe(50);
      expect(stats.roundTrips).toBeLessThanOrEqual(3);
      const visible = await sut.page(
        { visible: [{ platform: 'github', repo: 'acme/rare' }], limit: 50, canSee: (_p, r) => r === 'acme/rare' },
        { roundTrips: 0, scanned: 0 },
      );
      expect(visible.reviews).toHaveLength(50);
    }, 60_000);

    it('walks every record, seen through canSee, for a reader with more repositories than a union reads', async () => {
      await store.create(job(1, 'acme/api'));
      await store.create(job(2, 'acme/secret'));
      const visible = Array.from({ length: MAX_UNION_REPOSITORIES + 1 }, (_, i) => ({
        platform: 'github' as const,
        repo: i === 0 ? 'acme/api' : `acme/r${i}`,
      }));
      const page = await sut.page({ visible, canSee: (_p, r) => visible.some((v) => v.repo === r) });
      expect(prs(page.reviews)).toEqual([1]);
    });

    it('answers nothing for a repository outside the visible ones, without reading', async () => {
      await store.create(job(1, 'acme/secret'));
      const stats: PageStats = { roundTrips: 0, scanned: 0 };
      const page = await sut.page(
        { repo: 'acme/secret', visible: [{ platform: 'github', repo: 'acme/api' }], canSee: all },
        stats,
      );
      expect(page).toEqual({ reviews: [] });
      expect(stats.roundTrips).toBe(0);
    });

    it('walks every record while older records are not yet in the new indexes', async () => {
      await client.flushall();
      await store.create(job(1, 'acme/api', 'alice'));
      await client.del(reviewIndexKeys.author('alice'));
      const fresh = new ReviewHistory(client);
      expect(prs((await fresh.page({ author: 'alice', canSee: all })).reviews)).toEqual([1]);
      await store.backfill();
      expect(await client.zcard(reviewIndexKeys.author('alice'))).toBe(1);
    });
  });
});
