import type { ReviewRequest } from '@kritik/core';
import { redisKeys, reviewIdFor, reviewIndexKeys } from '@kritik/core';
import { postedResult, startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { REVIEW_INDEX_VERSION, REVIEW_RETENTION_SECONDS, ReviewStore } from './review.store.js';

const job = (pr: number, headSha: string, repo = { owner: 'acme', name: 'api' }, sender?: string): ReviewRequest => ({
  reviewId: reviewIdFor('github', repo, pr, headSha),
  platform: 'github',
  repo,
  pr,
  headSha,
  trigger: 'opened',
  ...(sender ? { sender } : {}),
  enqueuedAt: new Date().toISOString(),
});

const result = postedResult();
const DAY_MS = 24 * 3600 * 1000;

describe(ReviewStore.name, () => {
  let redis: TestRedis;
  let client: Redis;
  let sut: ReviewStore;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    sut = new ReviewStore(client);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });
  beforeEach(() => client.flushall());

  it('creates a review as queued with a one-entry timeline', async () => {
    const { record, created } = await sut.create(job(1, 'a'.repeat(40)), new Date('2030-01-01T00:00:00Z'));
    expect(created).toBe(true);
    expect(await sut.get(record.id)).toEqual({
      id: record.id,
      platform: 'github',
      repo: 'acme/api',
      pr: 1,
      headSha: 'a'.repeat(40),
      trigger: 'opened',
      status: 'queued',
      timeline: [{ status: 'queued', at: '2030-01-01T00:00:00.000Z' }],
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
  });

  it('leaves an existing record unchanged when created again', async () => {
    const first = await sut.create(job(1, 'a'.repeat(40)));
    await sut.transition(first.record.id, 'running', { from: ['queued'] });
    const again = await sut.create(job(1, 'a'.repeat(40)));
    expect(again.created).toBe(false);
    expect(again.record.status).toBe('running');
  });

  it('records the timeline and the result up to a final status', async () => {
    const { record } = await sut.create(job(2, 'b'.repeat(40)));
    await sut.transition(record.id, 'running', { from: ['queued'] });
    const outcome = await sut.transition(record.id, 'posted', { from: ['running'], result });
    expect(outcome.ok).toBe(true);
    const stored = await sut.get(record.id);
    expect(stored?.timeline.map((t) => t.status)).toEqual(['queued', 'running', 'posted']);
    expect(stored?.result).toEqual(result);
  });

  it('refuses a move from a status that is not among the expected ones', async () => {
    const { record } = await sut.create(job(3, 'c'.repeat(40)));
    await sut.transition(record.id, 'skipped', { from: ['queued'], reason: 'superseded' });
    const outcome = await sut.transition(record.id, 'running', { from: ['queued', 'running'] });
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'not-allowed',
      record: { status: 'skipped', reason: 'superseded' },
    });
  });

  it('refuses a transition whose expected current status does not match', async () => {
    const { record } = await sut.create(job(3, 'd'.repeat(40)));
    await sut.transition(record.id, 'running', { from: ['queued'] });
    const outcome = await sut.transition(record.id, 'skipped', { from: ['queued'] });
    expect(outcome).toMatchObject({ ok: false, reason: 'not-allowed' });
  });

  it('reports a missing record', async () => {
    expect(await sut.transition('0123456789abcdef0123', 'running', { from: ['queued'] })).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it('lets exactly one of many concurrent writers win a compare-and-set', async () => {
    const { record } = await sut.create(job(4, 'e'.repeat(40)));
    const writers = Array.from({ length: 20 }, (_, i) =>
      sut.transition(record.id, i % 2 ? 'running' : 'skipped', { from: ['queued'], reason: `writer ${i}` }),
    );
    const outcomes = await Promise.all(writers);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect((await sut.get(record.id))?.timeline).toHaveLength(2);
  });

  it('keeps every update of concurrent writers that are all allowed', async () => {
    const { record } = await sut.create(job(5, 'f'.repeat(40)));
    await sut.transition(record.id, 'running', { from: ['queued'] });
    await Promise.all(Array.from({ length: 10 }, () => sut.transition(record.id, 'running', { from: ['running'] })));
    expect((await sut.get(record.id))?.timeline).toHaveLength(12);
  });

  it('lists by pull request, repository and status, newest first', async () => {
    const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
    const a = (await sut.create(job(1, '1'.repeat(40)), t(1))).record;
    const b = (await sut.create(job(1, '2'.repeat(40)), t(2))).record;
    const c = (await sut.create(job(2, '3'.repeat(40)), t(3))).record;
    const d = (await sut.create(job(1, '4'.repeat(40), { owner: 'acme', name: 'web' }), t(4))).record;
    await sut.transition(b.id, 'running', { from: ['queued'], at: t(5) });

    expect((await sut.list({ repo: 'acme/api', pr: 1 })).map((r) => r.id)).toEqual([b.id, a.id]);
    expect((await sut.list({ repo: 'ACME/API' })).map((r) => r.id)).toEqual([b.id, c.id, a.id]);
    expect((await sut.list({ status: 'queued' })).map((r) => r.id)).toEqual([d.id, c.id, a.id]);
    expect((await sut.list({ status: 'queued', repo: 'acme/api' })).map((r) => r.id)).toEqual([c.id, a.id]);
    expect((await sut.list()).map((r) => r.id)).toEqual([b.id, d.id, c.id, a.id]);
    expect(await sut.list({ limit: 1 })).toHaveLength(1);
  });

  it('drops index entries of records that expired', async () => {
    const { record } = await sut.create(job(6, 'a'.repeat(40)));
    await client.del(`kritik:review:${record.id}`);
    expect(await sut.list({ repo: 'acme/api' })).toEqual([]);
    expect(await client.zcard('kritik:repo:acme/api:reviews')).toBe(0);
  });

  describe('retention', () => {
    const DAY = 24 * 3600;
    const indexes = (author = 'alice') => [
      redisKeys.reviewIndex(),
      reviewIndexKeys.repo('acme/api'),
      reviewIndexKeys.author(author),
      reviewIndexKeys.status('queued'),
    ];

    it('keeps a record the configured days after its last change, 30 by default', async () => {
      const short = new ReviewStore(client, { retentionDays: 2 });
      const { record } = await short.create(job(1, 'a'.repeat(40), undefined, 'alice'));
      const ttl = await client.ttl(redisKeys.review(record.id));
      expect(ttl).toBeGreaterThan(2 * DAY - 10);
      expect(ttl).toBeLessThanOrEqual(2 * DAY);
      await short.transition(record.id, 'running', { from: ['queued'] });
      expect(await client.ttl(redisKeys.review(record.id))).toBeGreaterThan(2 * DAY - 10);
      const { record: other } = await sut.create(job(2, 'b'.repeat(40)));
      expect(await client.ttl(redisKeys.review(other.id))).toBeGreaterThan(REVIEW_RETENTION_SECONDS - 10);
    });

    it('gives every index it writes a lifetime at least as long as its newest record', async () => {
      const short = new ReviewStore(client, { retentionDays: 2 });
      await short.create(job(1, 'a'.repeat(40), undefined, 'alice'));
      for (const key of indexes()) expect(await client.ttl(key)).toBeGreaterThan(2 * DAY - 10);
    });

    it('never shortens an index lifetime when the retention is lowered', async () => {
      await sut.create(job(1, 'a'.repeat(40), undefined, 'alice'));
      await new ReviewStore(client, { retentionDays: 2 }).create(job(2, 'b'.repeat(40), undefined, 'alice'));
      for (const key of indexes()) expect(await client.ttl(key)).toBeGreaterThan(29 * DAY);
    });

    it('trims the entries of expired records from every index a write touches', async () => {
      const short = new ReviewStore(client, { retentionDays: 2 });
      const day = (d: number) => new Date(Date.UTC(2030, 0, d));
      const old = (await short.create(job(1, 'a'.repeat(40), undefined, 'alice'), day(1))).record;
      const fresh = (await short.create(job(2, 'b'.repeat(40), undefined, 'alice'), day(4))).record;
      for (const key of indexes()) expect(await client.zrange(key, 0, -1)).toEqual([fresh.id]);
      await short.transition(fresh.id, 'running', { from: ['queued'], at: day(5) });
      expect(await client.zrange(reviewIndexKeys.status('running'), 0, -1)).toEqual([fresh.id]);
      expect(old.id).not.toBe(fresh.id);
    });

    it('moves a record to the top of its repository and author indexes when it changes', async () => {
      const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
      const a = (await sut.create(job(1, 'a'.repeat(40), undefined, 'Alice'), t(1))).record;
      await sut.create(job(2, 'b'.repeat(40), undefined, 'alice'), t(2));
      await sut.transition(a.id, 'posted', { from: ['queued'], at: t(3), result });
      for (const key of [reviewIndexKeys.repo('acme/api'), reviewIndexKeys.author('ALICE')])
        expect(await client.zrevrange(key, 0, 0, 'WITHSCORES')).toEqual([a.id, String(t(3).getTime())]);
    });
  });

  describe('backfill', () => {
    // What an earlier version left: records, the index of all records, a repository index by creation, no author index.
    const legacy = async (pr: number, created: number, updated: number, author?: string) => {
      const repo = { owner: 'acme', name: 'api' };
      const id = reviewIdFor('github', repo, pr, String(pr).repeat(40).slice(0, 40));
      const at = (ms: number) => new Date(ms).toISOString();
      const record = {
        id,
        platform: 'github',
        repo: 'acme/api',
        pr,
        headSha: String(pr).repeat(40).slice(0, 40),
        trigger: 'opened',
        ...(author ? { author } : {}),
        status: 'running',
        timeline: [
          { status: 'queued', at: at(created) },
          { status: 'running', at: at(updated) },
        ],
        createdAt: at(created),
        updatedAt: at(updated),
      };
      await client
        .multi()
        .set(redisKeys.review(id), JSON.stringify(record))
        .zadd(redisKeys.reviewIndex(), updated, id)
        .zadd(reviewIndexKeys.repo('acme/api'), created, id)
        .zadd(reviewIndexKeys.status('running'), updated, id)
        .exec();
      return id;
    };

    it('indexes older records by author and by last change, once', async () => {
      const now = Date.now();
      const a = await legacy(1, now - 5_000, now - 1_000, 'Alice');
      const b = await legacy(2, now - 4_000, now - 3_000);
      expect(await sut.backfill(1)).toBe(2);
      expect(await client.zrange(reviewIndexKeys.author('alice'), 0, -1)).toEqual([a]);
      expect(await client.zrevrange(reviewIndexKeys.repo('acme/api'), 0, -1, 'WITHSCORES')).toEqual([
        a,
        String(now - 1_000),
        b,
        String(now - 3_000),
      ]);
      expect(await client.get(reviewIndexKeys.version())).toBe(REVIEW_INDEX_VERSION);
      expect(await client.ttl(reviewIndexKeys.repo('acme/api'))).toBeGreaterThan(0);
      await legacy(3, now, now, 'bob');
      expect(await sut.backfill()).toBe(0);
    });

    it('indexes the others and finishes when one stored record cannot be read', async () => {
      const now = Date.now();
      const good = await legacy(1, now - 2_000, now - 1_000, 'alice');
      await client.set(redisKeys.review('broken00000'), '{"id": not json');
      await client.zadd(redisKeys.reviewIndex(), now, 'broken00000');
      expect(await sut.backfill()).toBe(1);
      expect(await client.zrange(reviewIndexKeys.author('alice'), 0, -1)).toEqual([good]);
      expect(await client.get(reviewIndexKeys.version())).toBe(REVIEW_INDEX_VERSION);
    });

    it('drops ids of expired records and entries older than the retention', async () => {
      const now = Date.now();
      const kept = await legacy(1, now - 1_000, now - 1_000);
      const expired = await legacy(2, now - 2_000, now - 2_000);
      await client.del(redisKeys.review(expired));
      const ancient = await legacy(3, now - 40 * DAY_MS, now - 40 * DAY_MS);
      await client.del(redisKeys.review(ancient));
      await client.zadd(reviewIndexKeys.author('ghost'), now - 40 * DAY_MS, ancient);
      await sut.backfill();
      expect(await client.zrange(redisKeys.reviewIndex(), 0, -1)).toEqual([kept]);
      expect(await client.zrange(reviewIndexKeys.status('running'), 0, -1)).toEqual([kept]);
      expect(await client.exists(reviewIndexKeys.author('ghost'))).toBe(0);
    });
  });
});
