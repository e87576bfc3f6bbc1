// The real parts the scheduling specs assemble by hand: Redis (a real server), the shared
// lifecycle, the scheduling gate, the GitHub App client and check runs against the GitHub fake,
// and the local runner with a stand-in reviewer (a Node one-liner) in place of the real one.
import type { ReviewRequest, ReviewResult } from '@kritik/core';
import { PrHeadStore, ReviewLifecycle, ReviewStore } from '@kritik/server';
import { FAST_SCHEDULING, postedResult, startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { CodeHosts } from '../../src/code-host/code-host.js';
import type { WorkerConfig } from '../../src/config/worker.config.js';
import { DirectModelAccess } from '../../src/gateway/model-access.js';
import { CheckRuns } from '../../src/github/check-runs.js';
import { GitHubCodeHost } from '../../src/github/github.code-host.js';
import { GitHubAppClient } from '../../src/github/github-app.client.js';
import { WorkerMetrics } from '../../src/metrics/worker.metrics.js';
import { LocalProcessRunner } from '../../src/runner/local-process.runner.js';
import type { ReviewRunner } from '../../src/runner/review-runner.js';
import { PrLeases } from '../../src/scheduling/pr-lease.js';
import { ReviewExecution } from '../../src/scheduling/review-execution.service.js';
import { ReviewSlots } from '../../src/scheduling/review-slots.js';
import { SchedulingGate } from '../../src/scheduling/scheduling-gate.js';
import { workerConfig } from './worker-app.js';
import { APP_ID, type Fakes, startFakes } from './world.js';

/** Stand-in reviewers: what the process does instead of reviewing. */
export const reviewers = {
  /** Reports `result` at once, where both runners read it (the termination-message file). */
  reports: (result: ReviewResult = postedResult()) =>
    `require('fs').writeFileSync(process.env.KRITIK_TERMINATION_LOG, ${JSON.stringify(JSON.stringify(result))})`,
  /** Runs until it is stopped. */
  hangs: () => 'setInterval(() => {}, 1000)',
  /** Crashes with an error line. */
  crashes: () => `console.error('Error: the reviewer fell over'); process.exit(3)`,
};

export interface SchedulingParts {
  readonly redis: Redis;
  readonly fakes: Fakes;
  readonly config: WorkerConfig;
  readonly logger: pino.Logger;
  readonly lifecycle: ReviewLifecycle;
  readonly leases: PrLeases;
  readonly gate: SchedulingGate;
  readonly github: GitHubAppClient;
  readonly checkRuns: CheckRuns;
  /** The code hosts the execution and the processor ask, GitHub on the fake. */
  readonly hosts: CodeHosts;
  readonly metrics: WorkerMetrics;
  readonly registry: Registry;
  /**
   * A ReviewExecution running reviews through `runner`, or through the local runner with a
   * reviewer process that runs `script` (see {@link reviewers}).
   */
  execution(runner: string | ReviewRunner): { execution: ReviewExecution; runner: ReviewRunner };
  /** A review the scheduling gate has let in, as the processor hands it to the execution. */
  enter(review: ReviewRequest, entryId?: string): ReturnType<SchedulingGate['enter']>;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSchedulingParts(): Promise<SchedulingParts> {
  const server: TestRedis = await startRedis();
  const fakes = await startFakes();
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const config = workerConfig({
    redisUrl: server.url,
    fakes,
    runner: 'local',
    reviewJob: {},
    scheduling: { ...FAST_SCHEDULING, concurrency: 2, perRepoConcurrency: 2 },
  });
  const logger = pino({ level: 'silent' });
  const lifecycle = new ReviewLifecycle(new ReviewStore(redis), new PrHeadStore(redis));
  const leases = new PrLeases(redis);
  const gate = new SchedulingGate(leases, new ReviewSlots(redis, { global: 2, perRepo: 2 }), {
    workerId: 'spec-worker',
    leaseTtlMs: config.scheduling.leaseTtlSeconds * 1000,
  });
  const github = new GitHubAppClient({ appId: APP_ID, privateKey: fakes.privateKey, apiUrl: fakes.github.url });
  const checkRuns = new CheckRuns(github);
  const hosts = new CodeHosts([new GitHubCodeHost(github, checkRuns)]);
  const registry = new Registry();
  const metrics = new WorkerMetrics(registry);
  return {
    redis,
    fakes,
    config,
    logger,
    lifecycle,
    leases,
    gate,
    github,
    checkRuns,
    hosts,
    metrics,
    registry,
    execution(runnerOrScript) {
      const runner =
        typeof runnerOrScript === 'string'
          ? new LocalProcessRunner(
              { command: [process.execPath, '-e', runnerOrScript], settings: config.reviewJob, killGraceMs: 200 },
              { PATH: process.env.PATH },
            )
          : runnerOrScript;
      const execution = new ReviewExecution(
        config,
        logger,
        runner,
        hosts,
        new DirectModelAccess(),
        lifecycle,
        gate,
        metrics,
        redis,
      );
      return { execution, runner };
    },
    enter: (review, entryId = '1') => gate.enter(review, entryId),
    flush: async () => {
      await redis.flushall();
    },
    async stop() {
      redis.disconnect();
      await Promise.all([fakes.stop(), server.stop()]);
    },
  };
}
