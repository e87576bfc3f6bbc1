import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { PrHeadStore } from './pr-head.store.js';

describe(PrHeadStore.name, () => {
  let redis: TestRedis;
  let client: Redis;
  let sut: PrHeadStore;
  const ref = { repo: 'Acme/API', pr: 7 };

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    sut = new PrHeadStore(client);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });
  beforeEach(() => client.flushall());

  it('keeps the later of two offers whatever order they arrive in', async () => {
    await sut.offer(ref, { reviewId: 'new', sha: 'b'.repeat(40), at: 2_000 });
    const head = await sut.offer(ref, { reviewId: 'old', sha: 'a'.repeat(40), at: 1_000 });
    expect(head).toEqual({ reviewId: 'new', sha: 'b'.repeat(40), at: 2_000 });
  });

  it('keeps the first of two offers enqueued in the same millisecond', async () => {
    await sut.offer(ref, { reviewId: 'first', sha: 'a'.repeat(40), at: 3_000 });
    const head = await sut.offer(ref, { reviewId: 'second', sha: 'b'.repeat(40), at: 3_000 });
    expect(head).toEqual({ reviewId: 'first', sha: 'a'.repeat(40), at: 3_000 });
  });

  it('reads the head under the lower-cased repository key', async () => {
    await sut.offer(ref, { reviewId: 'r1', sha: 'c'.repeat(40), at: 1 });
    expect(await sut.get({ repo: 'acme/api', pr: 7 })).toEqual({ reviewId: 'r1', sha: 'c'.repeat(40), at: 1 });
    expect(await client.exists('kritik:pr:acme/api#7:head')).toBe(1);
  });

  it('has no head for an unknown pull request', async () => {
    expect(await sut.get({ repo: 'acme/api', pr: 8 })).toBeUndefined();
  });
});
