import type { ReviewRequest } from '@kritik/core';
import { reviewIdFor } from '@kritik/core';
import { postedResult, startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { ReviewStore } from './review.store.js';

const job = (pr: number, headSha: string, repo = { owner: 'acme', name: 'api' }): ReviewRequest => ({
  reviewId: reviewIdFor('github', repo, pr, headSha),
  platform: 'github',
  repo,
  pr,
  headSha,
  trigger: 'opened',
  enqueuedAt: new Date().toISOString(),
});

const result = postedResult();

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
    expect((await sut.list({ repo: 'ACME/API' })).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
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
});
