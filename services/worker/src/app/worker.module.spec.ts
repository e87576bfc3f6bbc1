import { REVIEW_QUEUE_PROVIDES } from '@kritik/server';
import { startRedis, type TestRedis } from '@kritik/testing';
import { startWorker, type WorkerUnderTest } from '../../test/support/worker-app.js';
import { type Fakes, startFakes } from '../../test/support/world.js';
import { CodeHosts } from '../code-host/code-host.js';
import { RunnerAccess } from '../health/runner-access.service.js';
import { WorkerStatusPublisher } from '../health/worker-status.publisher.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { REVIEW_RUNNER } from '../runner/review-runner.js';
import { WorkerModule } from './worker.module.js';

describe(WorkerModule.name, () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let sut: WorkerUnderTest;

  beforeAll(async () => {
    [redis, fakes] = await Promise.all([startRedis(), startFakes()]);
    sut = await startWorker({ redisUrl: redis.url, fakes, runner: 'local', reviewJob: {} });
  });
  afterAll(async () => {
    await sut?.close();
    await Promise.all([fakes?.stop(), redis?.stop()]);
  });

  // Two instances would mean two sets of state (a second reviews Queue unwatched by recovery, a
  // readiness check asking a RunnerAccess the consumer never waits on).
  it.each([
    ...REVIEW_QUEUE_PROVIDES.map((token) => [typeof token === 'string' ? token : token.name, token] as const),
    ['the runner', REVIEW_RUNNER],
    ['RunnerAccess', RunnerAccess],
    ['CodeHosts', CodeHosts],
    ['WorkerMetrics', WorkerMetrics],
    ['WorkerStatusPublisher', WorkerStatusPublisher],
  ] as const)('provides %s once, shared by every feature', (_, token) => {
    expect(sut.app.get(token as never, { each: true, strict: false })).toHaveLength(1);
  });
});
