// Starts the worker application in the test process on a free port, with a config built like the
// chart's (review Job settings and scheduling), and a queue producer that enqueues like the backend.
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import {
  QUEUE_PREFIX,
  REVIEWS_QUEUE,
  type ReviewRecord,
  type ReviewRequest,
  redisKeys,
  reviewRecordSchema,
} from '@kritik/core';
import { createLogger } from '@kritik/server';
import { FAST_SCHEDULING, waitUntil } from '@kritik/testing';
import type { KubeConfig } from '@kubernetes/client-node';
import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createWorkerApp } from '../../src/app/worker.app.js';
import { type WorkerConfig, workerConfigSchema } from '../../src/config/worker.config.js';
import type { WorkerStatusOptions } from '../../src/health/worker-status.publisher.js';
import { APP_ID, type Fakes, reviewerCommand, reviewJobSettings } from './world.js';

export interface WorkerUnderTest {
  readonly app: INestApplication;
  readonly url: string;
  /** Every log line the worker wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface WorkerOptions {
  readonly redisUrl: string;
  readonly fakes: Fakes;
  readonly runner: 'kubernetes' | 'local';
  readonly namespace?: string;
  readonly kubeConfig?: KubeConfig;
  readonly reviewJob: Record<string, unknown>;
  readonly scheduling?: Record<string, unknown>;
  readonly local?: Record<string, unknown>;
  /** Settings beside the GitHub App's (e.g. apiUrl). */
  readonly github?: Record<string, unknown>;
  /** Other top-level sections (triggers, commands). */
  readonly settings?: Record<string, unknown>;
  /** The status heartbeat's replica name and interval. */
  readonly status?: WorkerStatusOptions;
}

export function workerConfig(options: WorkerOptions): WorkerConfig {
  return workerConfigSchema.parse({
    port: 0,
    logLevel: 'debug',
    redis: { url: options.redisUrl },
    github: {
      appId: APP_ID,
      privateKey: options.fakes.privateKey,
      apiUrl: options.fakes.github.url,
      ...options.github,
    },
    runner: options.runner,
    kubernetes: {
      ...(options.namespace ? { namespace: options.namespace } : {}),
      deadlineMarginSeconds: 2,
      accessCheckIntervalSeconds: 1,
      retry: { attempts: 5, baseDelayMs: 50, maxDelayMs: 500 },
    },
    local: options.local ?? {},
    reviewJob: options.reviewJob,
    scheduling: { ...FAST_SCHEDULING, ...options.scheduling },
    ...options.settings,
  });
}

export async function startWorker(options: WorkerOptions): Promise<WorkerUnderTest> {
  const logs: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line));
  });
  const logger = createLogger({ name: 'worker', level: 'debug', destination: stream });
  const app = await createWorkerApp(workerConfig(options), {
    logger,
    ...(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {}),
    ...(options.status ? { status: options.status } : {}),
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    logs,
    close: () => app.close(),
  };
}

/**
 * A worker with the local runner running `command` (the built reviewer by default) against the
 * fakes, calling the model directly; `settings` adds sections (e.g. `gitlab`).
 */
export function startLocalWorker(
  redisUrl: string,
  fakes: Fakes,
  command: string[] = reviewerCommand(),
  settings: Record<string, unknown> = {},
): Promise<WorkerUnderTest> {
  return startWorker({
    redisUrl,
    fakes,
    runner: 'local',
    reviewJob: reviewJobSettings(fakes.anthropic),
    local: { command },
    settings: { anthropic: { apiKey: 'sk-ant-local' }, ...settings },
  });
}

/** Enqueues reviews the way the backend does, and reads their records back. */
export class Producer {
  readonly redis: Redis;
  readonly queue: Queue;

  constructor(redisUrl: string) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(REVIEWS_QUEUE, { connection: this.redis, prefix: QUEUE_PREFIX });
  }

  async enqueue(review: ReviewRequest): Promise<void> {
    await this.queue.add('review', { ...review, enqueuedAt: new Date().toISOString() }, { removeOnComplete: 1000 });
  }

  async record(reviewId: string): Promise<ReviewRecord | undefined> {
    const raw = await this.redis.get(redisKeys.review(reviewId));
    return raw ? reviewRecordSchema.parse(JSON.parse(raw)) : undefined;
  }

  /** Waits until the review's record is final (posted, skipped or failed). */
  ended(reviewId: string, timeoutMs = 60_000): Promise<ReviewRecord> {
    return waitUntil(
      `review ${reviewId} to end`,
      async () => {
        const record = await this.record(reviewId);
        return record && ['posted', 'skipped', 'failed'].includes(record.status) ? record : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}
