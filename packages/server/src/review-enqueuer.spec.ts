import { REVIEWS_QUEUE, type ReviewRequest, reviewIdFor } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { PrHeadStore } from './pr-head.store.js';
import { ReviewStore } from './review.store.js';
import { ReviewEnqueuer } from './review-enqueuer.js';
import { ReviewLifecycle } from './review-lifecycle.js';

const repo = { owner: 'acme', name: 'api' };
const job = (pr: number, headSha: string): ReviewRequest => ({
  reviewId: reviewIdFor('github', repo, pr, headSha),
  platform: 'github',
  repo,
  pr,
  headSha,
  trigger: 'synchronize',
  enqueuedAt: new Date().toISOString(),
});

describe(ReviewEnqueuer.name, () => {
  const log = pino({ level: 'silent' });
  let server: TestRedis;
  let redis: Redis;
  let queue: Queue<ReviewRequest>;
  let store: ReviewStore;
  let sut: ReviewEnqueuer;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    queue = new Queue<ReviewRequest>(REVIEWS_QUEUE, { connection: redis });
    store = new ReviewStore(redis);
    sut = new ReviewEnqueuer(queue, new ReviewLifecycle(store, new PrHeadStore(redis)), redis, { debounceMs: 60_000 });
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('queues a review delayed by the debounce under its review id', async () => {
    const review = job(1, 'a'.repeat(40));
    await store.create(review);

    expect(await sut.enqueue(review, log)).toEqual({ status: 'queued' });
    expect(await queue.getJobState(review.reviewId)).toBe('delayed');
  });

  it('replaces a waiting review of the same PR with a newer head and records the older skipped', async () => {
    const older = job(2, 'b'.repeat(40));
    const newer = job(2, 'c'.repeat(40));
    for (const review of [older, newer]) await store.create(review);
    await sut.enqueue(older, log);

    expect(await sut.enqueue(newer, log)).toEqual({ status: 'queued', superseded: older.reviewId });
    expect(await queue.getJobState(older.reviewId)).toBe('unknown');
    expect(await store.get(older.reviewId)).toMatchObject({
      status: 'skipped',
      reason: `superseded by ${'c'.repeat(12)}`,
    });
  });

  it('adds nothing when the same review is queued again', async () => {
    const review = job(3, 'd'.repeat(40));
    await store.create(review);
    await sut.enqueue(review, log);

    expect(await sut.enqueue(review, log)).toEqual({ status: 'queued' });
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 1 });
  });

  it('sends the add and the commands of the work alongside it in one socket write', async () => {
    const warmUp = job(4, 'e'.repeat(40));
    await store.create(warmUp);
    await sut.enqueue(warmUp, log);
    const review = job(5, 'f'.repeat(40));
    await store.create(review);
    const slot = await sut.peek(review);
    const socket = redis.stream as unknown as { _write: () => void; _writev: () => void };
    const writes = [jest.spyOn(socket, '_write'), jest.spyOn(socket, '_writev')];

    try {
      await sut.enqueue(review, log, { slot, alongside: () => redis.set('alongside', review.reviewId) });
      expect(writes[0]!.mock.calls.length + writes[1]!.mock.calls.length).toBe(1);
    } finally {
      for (const write of writes) write.mockRestore();
    }
    expect(await queue.getJobState(review.reviewId)).toBe('delayed');
    expect(await redis.get('alongside')).toBe(review.reviewId);
  });

  it('fails when the work alongside the add fails', async () => {
    const review = job(6, '1'.repeat(40));
    await store.create(review);

    await expect(
      sut.enqueue(review, log, { alongside: () => Promise.reject(new Error('offer failed')) }),
    ).rejects.toThrow('offer failed');
  });
});
