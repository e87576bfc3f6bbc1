import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { ReviewSlots } from './review-slots.js';

describe(ReviewSlots.name, () => {
  let server: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('refuses a repository its third review when the per-repo cap is two', async () => {
    const sut = new ReviewSlots(redis, { global: 10, perRepo: 2 });
    expect(await sut.acquire('a/x', 'r1', 10_000)).toBe('acquired');
    expect(await sut.acquire('a/x', 'r2', 10_000)).toBe('acquired');
    expect(await sut.acquire('a/x', 'r3', 10_000)).toBe('repo-full');
    expect(await sut.acquire('b/y', 'r4', 10_000)).toBe('acquired');
  });

  it('refuses every repository once the global cap is reached', async () => {
    const sut = new ReviewSlots(redis, { global: 2, perRepo: 2 });
    await sut.acquire('a/x', 'r1', 10_000);
    await sut.acquire('b/y', 'r2', 10_000);
    expect(await sut.acquire('c/z', 'r3', 10_000)).toBe('global-full');
    expect(await sut.inUse()).toBe(2);
  });

  it('gives a released slot to the next review', async () => {
    const sut = new ReviewSlots(redis, { global: 1, perRepo: 1 });
    await sut.acquire('a/x', 'r1', 10_000);
    await sut.release('a/x', 'r1');
    expect(await sut.acquire('a/x', 'r2', 10_000)).toBe('acquired');
  });

  it('frees the slot of a worker that stopped renewing', async () => {
    const sut = new ReviewSlots(redis, { global: 1, perRepo: 1 });
    await sut.acquire('a/x', 'r1', 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await sut.renew('a/x', 'r1', 10_000)).toBe(false);
    expect(await sut.acquire('a/x', 'r2', 10_000)).toBe('acquired');
  });

  it('renews a held slot', async () => {
    const sut = new ReviewSlots(redis, { global: 1, perRepo: 1 });
    await sut.acquire('a/x', 'r1', 100);
    expect(await sut.renew('a/x', 'r1', 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(await sut.acquire('a/x', 'r2', 10_000)).toBe('global-full');
  });
});
