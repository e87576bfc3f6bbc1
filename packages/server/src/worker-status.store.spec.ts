import { WORKER_STATUS_TTL_SECONDS, type WorkerStatus, workerStatusKeys } from '@kritik/core';
import { startRedis, type TestRedis, workerStatus } from '@kritik/testing';
import { Redis } from 'ioredis';
import { WorkerStatusStore } from './worker-status.store.js';

const status = (replica: string, lastBeat: string): WorkerStatus => ({
  ...workerStatus({ replica }),
  lastBeat,
});

describe(WorkerStatusStore.name, () => {
  let server: TestRedis;
  let redis: Redis;
  let sut: WorkerStatusStore;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    sut = new WorkerStatusStore(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(() => redis.flushall());

  it('lists replicas newest beat first', async () => {
    await sut.publish(status('a', new Date(Date.now() - 2_000).toISOString()));
    await sut.publish(status('b', new Date().toISOString()));

    expect((await sut.list()).replicas.map((r) => r.replica)).toEqual(['b', 'a']);
  });

  it('refuses a status that breaks the schema, and writes nothing', async () => {
    await expect(sut.publish({ ...status('a', new Date().toISOString()), version: 'v'.repeat(65) })).rejects.toThrow();

    expect(await redis.exists(workerStatusKeys.replica('a'), workerStatusKeys.replicas())).toBe(0);
  });

  it('reports a status key that does not parse instead of dropping it silently', async () => {
    await sut.publish(status('good', new Date().toISOString()));
    await redis.set(workerStatusKeys.replica('bad'), '{"replica":"bad","version":');
    await redis.zadd(workerStatusKeys.replicas(), Date.now(), 'bad');

    const listed = await sut.list();
    expect(listed.replicas.map((r) => r.replica)).toEqual(['good']);
    expect(listed.unreadable).toEqual([{ replica: 'bad', error: 'not JSON' }]);
  });

  it('forgets a replica once its key has expired', async () => {
    await sut.publish(status('gone', new Date().toISOString()));
    await redis.del(workerStatusKeys.replica('gone'));

    expect((await sut.list()).replicas).toEqual([]);
    expect(await redis.zcard(workerStatusKeys.replicas())).toBe(0);
  });

  it('sets the key to expire after the status life', async () => {
    await sut.publish(status('a', new Date().toISOString()));

    const ttl = await redis.ttl(workerStatusKeys.replica('a'));
    expect(ttl).toBeGreaterThan(WORKER_STATUS_TTL_SECONDS - 5);
    expect(ttl).toBeLessThanOrEqual(WORKER_STATUS_TTL_SECONDS);
  });
});
