import { readFileSync } from 'node:fs';
import {
  WORKER_STATUS_INTERVAL_MS,
  WORKER_STATUS_STALE_BEATS,
  type WorkerReplica,
  workerStatusKeys,
} from '@kritik/core';
import { createLogger, createRedis, redisSettingsSchema, WorkerStatusStore } from '@kritik/server';
import { startRedis, type TestRedis, waitUntil } from '@kritik/testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { startWorker, type WorkerUnderTest, workerConfig } from '../../test/support/worker-app.js';
import { type Fakes, startFakes } from '../../test/support/world.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { RunnerAccess } from './runner-access.service.js';
import { WorkerStatusPublisher, workerVersion } from './worker-status.publisher.js';

const REPLICA = 'kritik-worker-spec-0';
/** Short beats for the test that watches them; the others beat only once a minute. */
const BEAT_MS = 400;
const SLOW_BEAT_MS = 60_000;

describe(WorkerStatusPublisher.name, () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let client: Redis;
  let store: WorkerStatusStore;
  let worker: WorkerUnderTest | undefined;

  beforeAll(async () => {
    [redis, fakes] = await Promise.all([startRedis(), startFakes()]);
    client = new Redis(redis.url);
    store = new WorkerStatusStore(client);
  });
  afterAll(async () => {
    client?.disconnect();
    await Promise.all([fakes?.stop(), redis?.stop()]);
  });
  beforeEach(() => client.flushall());
  const start = async (intervalMs = SLOW_BEAT_MS) => {
    worker = await startWorker({
      redisUrl: redis.url,
      fakes,
      runner: 'local',
      reviewJob: { image: 'registry.example/kritik-reviewer:9.9.9' },
      scheduling: { replicaConcurrency: 3 },
      status: { replica: REPLICA, intervalMs },
    });
  };
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });

  const published = (which: (r: WorkerReplica) => boolean = () => true) =>
    waitUntil(
      'a matching worker status',
      async () => (await store.list()).replicas.find((r) => r.replica === REPLICA && which(r)),
      { timeoutMs: 10_000, intervalMs: 50 },
    );

  it('publishes the replica as it is configured, once it starts', async () => {
    await start();
    const status = await published();

    expect(status).toMatchObject({
      replica: REPLICA,
      version: JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
      reviewerImage: { ref: 'registry.example/kritik-reviewer:9.9.9' },
      runner: 'local',
      ready: true,
      permissions: [],
      namespace: null,
      concurrency: 3,
      stale: false,
    });
    expect(status.version).toBe(workerVersion());
    expect(await client.ttl(workerStatusKeys.replica(REPLICA))).toBeGreaterThan(WORKER_STATUS_INTERVAL_MS / 1000);
  });

  it('publishes a change at once, long before the next beat is due', async () => {
    await start();
    const first = await published();
    const metrics = worker!.app.get(WorkerMetrics);
    metrics.running.inc();
    try {
      const changed = await published((r) => r.running === first.running + 1);
      expect(Date.parse(changed.lastBeat) - Date.parse(first.lastBeat)).toBeLessThan(3_000);
    } finally {
      metrics.running.dec();
    }
  });

  it('beats while nothing changes, so a live replica never turns stale', async () => {
    await start(BEAT_MS);
    const first = await published();
    const later = await published((r) => Date.parse(r.lastBeat) >= Date.parse(first.lastBeat) + BEAT_MS);

    expect({ ...later, lastBeat: first.lastBeat }).toEqual(first);
  });

  it('shows a replica that stopped beating as stale while its key lives', async () => {
    await start();
    const status = await published();
    const later = Date.parse(status.lastBeat) + WORKER_STATUS_INTERVAL_MS * WORKER_STATUS_STALE_BEATS + 1_000;

    expect((await store.list(later)).replicas).toEqual([expect.objectContaining({ replica: REPLICA, stale: true })]);
  });

  it('removes its status on a clean shutdown', async () => {
    await start();
    await published();
    await worker!.close();
    worker = undefined;

    expect((await store.list()).replicas).toEqual([]);
    expect(await client.exists(workerStatusKeys.replica(REPLICA), workerStatusKeys.replicas())).toBe(0);
  });

  it('stops promptly when Redis is gone, leaving its status to expire', async () => {
    const own = await startRedis();
    const connection = createRedis({ connection: redisSettingsSchema.parse({ url: own.url }), name: 'spec' });
    if (connection.status !== 'ready') await new Promise((resolve) => connection.once('ready', resolve));
    const config = workerConfig({ redisUrl: own.url, fakes, runner: 'local', reviewJob: {} });
    const logger = createLogger({ level: 'silent', destination: { write: () => true } });
    const sut = new WorkerStatusPublisher(
      config,
      logger,
      new RunnerAccess(config, logger),
      new WorkerMetrics(new Registry()),
      new WorkerStatusStore(connection),
      { replica: 'kritik-worker-doomed' },
    );
    try {
      expect(await sut.beat()).toBe(true);
      await own.stop();

      const started = Date.now();
      await sut.beforeApplicationShutdown();
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      connection.disconnect();
    }
  });
});
