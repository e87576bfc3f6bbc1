// Publishes this replica's status (worker-status.builder.ts) to Redis for the Platform page: at
// once when it changes, else every WORKER_STATUS_INTERVAL_MS; removed on a clean shutdown.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { WORKER_STATUS_INTERVAL_MS, type WorkerStatus } from '@kritik/core';
import { WorkerStatusStore } from '@kritik/server';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { effectiveRunner, type WorkerConfig } from '../config/worker.config.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { WORKER_CONFIG, WORKER_LOGGER } from '../scheduling/tokens.js';
import { RunnerAccess } from './runner-access.service.js';
import { buildWorkerStatus } from './worker-status.builder.js';

/** How often the status is rebuilt to see whether it changed (cheap: no I/O). */
const LOOK_MS = 1_000;
/** How long shutdown waits to remove the status before leaving it to expire. */
const REMOVE_TIMEOUT_MS = 1_000;

/** Options for tests; production uses the defaults. */
export const WORKER_STATUS_OPTIONS = Symbol('WORKER_STATUS_OPTIONS');
export interface WorkerStatusOptions {
  /** The replica's name; the hostname (the pod name) by default. */
  readonly replica?: string;
  readonly intervalMs?: number;
}

/** The worker's version: its package's, which every workspace of a release shares. */
export function workerVersion(): string {
  try {
    const manifest = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The status without its beat time: two equal ones need no publishing before the interval. */
const content = ({ lastBeat: _, ...rest }: WorkerStatus) => JSON.stringify(rest);

@Injectable()
export class WorkerStatusPublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly startedAt = new Date();
  private readonly version = workerVersion();
  private readonly replica: string;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private published: { content: string; at: number } | undefined;
  private failing = false;
  private stopped = false;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
    private readonly access: RunnerAccess,
    private readonly metrics: WorkerMetrics,
    private readonly store: WorkerStatusStore,
    @Optional() @Inject(WORKER_STATUS_OPTIONS) options: WorkerStatusOptions = {},
  ) {
    this.replica = options.replica ?? hostname();
    this.intervalMs = options.intervalMs ?? WORKER_STATUS_INTERVAL_MS;
  }

  onApplicationBootstrap() {
    void this.tick();
  }

  async beforeApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
    // Bounded: with Redis gone a command can wait for a reconnect, and shutdown must not.
    const removed = this.store.remove(this.replica).then(
      () => true,
      () => false,
    );
    const gaveUp = new Promise<false>((resolve) => setTimeout(resolve, REMOVE_TIMEOUT_MS, false).unref());
    if (!(await Promise.race([removed, gaveUp]))) {
      this.logger.debug('the worker status could not be removed; it expires on its own');
    }
  }

  /** The status as it stands now. */
  async current(now = new Date()): Promise<WorkerStatus> {
    const running = (await this.metrics.running.get()).values[0]?.value ?? 0;
    const { scheduling, kubernetes, reviewJob } = this.config;
    return buildWorkerStatus({
      replica: this.replica,
      version: this.version,
      reviewerImage: reviewJob.image,
      runner: effectiveRunner(this.config),
      namespace: kubernetes.namespace,
      access: this.access.lastReport,
      running,
      concurrency: scheduling.replicaConcurrency ?? scheduling.concurrency,
      startedAt: this.startedAt,
      now,
    });
  }

  /** Publishes when the status changed or a beat is due. */
  async beat(now = new Date()): Promise<boolean> {
    const status = await this.current(now);
    const changed = content(status);
    const due = !this.published || now.getTime() - this.published.at >= this.intervalMs;
    if (!due && this.published?.content === changed) return false;
    await this.store.publish(status);
    this.published = { content: changed, at: now.getTime() };
    return true;
  }

  private async tick() {
    if (this.stopped) return;
    try {
      await this.beat();
      if (this.failing) this.logger.info('publishing the worker status again');
      this.failing = false;
    } catch (err) {
      // Redis down shows on /ready already; one line per outage is enough here.
      if (!this.failing) this.logger.warn({ err: (err as Error).message }, 'cannot publish the worker status');
      this.failing = true;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.min(LOOK_MS, this.intervalMs));
    this.timer.unref();
  }
}
