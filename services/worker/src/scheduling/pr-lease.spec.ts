import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { PrLeases } from './pr-lease.js';

describe(PrLeases.name, () => {
  let server: TestRedis;
  let redis: Redis;
  let sut: PrLeases;
  const ref = { repo: 'Acme/Web', pr: 7 };
  const first = { reviewId: 'aaaa1111', owner: 'worker-1:1' };
  const second = { reviewId: 'bbbb2222', owner: 'worker-2:2' };

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    sut = new PrLeases(redis);
  });

  it('lets one review of a pull request hold the lease and names it to the next', async () => {
    expect(await sut.acquire(ref, first, 10_000)).toBeUndefined();
    expect(await sut.acquire({ repo: 'acme/web', pr: 7 }, second, 10_000)).toEqual(first);
  });

  it('is re-entrant for the same holder', async () => {
    await sut.acquire(ref, first, 10_000);
    expect(await sut.acquire(ref, first, 10_000)).toBeUndefined();
  });

  it('frees itself when the holder stops renewing', async () => {
    await sut.acquire(ref, first, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await sut.acquire(ref, second, 10_000)).toBeUndefined();
    expect(await sut.renew(ref, first, 10_000)).toBe(false);
  });

  it('is released only by its holder', async () => {
    await sut.acquire(ref, first, 10_000);
    expect(await sut.release(ref, second)).toBe(false);
    expect(await sut.release(ref, first)).toBe(true);
    expect(await sut.holder(ref)).toBeUndefined();
  });

  it('is taken over only from the expected holder', async () => {
    await sut.acquire(ref, first, 10_000);
    expect(await sut.takeOver(ref, second, { reviewId: 'cccc', owner: 'w3' }, 10_000)).toBe(false);
    expect(await sut.takeOver(ref, first, second, 10_000)).toBe(true);
    expect(await sut.holder(ref)).toEqual(second);
  });
});
