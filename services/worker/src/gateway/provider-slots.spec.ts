import { redisKeys } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { ProviderSlots } from './provider-slots.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(ProviderSlots.name, () => {
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

  /** One worker replica's limit for Bedrock calls. */
  const replica = (limit: number, leaseMs = 10_000) =>
    new ProviderSlots(redis, 'bedrock', { limit, leaseMs, retryMs: { first: 2, max: 20 } });

  it('lets no more calls run at once across three replicas than the limit', async () => {
    const replicas = [replica(2), replica(2), replica(2)];
    let inFlight = 0;
    let most = 0;
    const call = async () => {
      most = Math.max(most, ++inFlight);
      await sleep(15);
      inFlight--;
    };

    await Promise.all(Array.from({ length: 18 }, (_, i) => replicas[i % 3]!.run(call)));

    expect(most).toBe(2);
    expect(await replicas[0]!.inUse()).toBe(0);
  });

  it('frees the slot of a replica that died mid-call once its lease expires', async () => {
    // The dead replica's call never ends and never releases; only its lease bounds it.
    void replica(1, 200).run(() => new Promise(() => {}));
    await sleep(20);
    const started = Date.now();

    await replica(1).run(async () => {});

    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('gives the slot back when the call fails', async () => {
    const sut = replica(1);

    await expect(sut.run(() => Promise.reject(new Error('upstream 500')))).rejects.toThrow('upstream 500');

    expect(await redis.zcard(redisKeys.gatewaySlots('bedrock'))).toBe(0);
    await expect(sut.run(async () => 'next')).resolves.toBe('next');
  });

  it('stops waiting when the caller goes away, without taking a slot', async () => {
    const holder = replica(1);
    let release!: () => void;
    const held = holder.run(() => new Promise<void>((r) => (release = r)));
    await sleep(20);
    const gone = new AbortController();

    const waiting = replica(1).run(async () => 'ran', gone.signal);
    setTimeout(() => gone.abort(), 30);

    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(await redis.zcard(redisKeys.gatewaySlots('bedrock'))).toBe(1);
    release();
    await held;
  });
});
