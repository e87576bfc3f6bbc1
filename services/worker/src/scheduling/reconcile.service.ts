// At start and every few minutes: review Jobs that no live queue entry or lease accounts for are
// adopted (followed to their end, a finished one's result recorded instead of running it again)
// or removed (their review already ended, or a newer SHA replaced it).
import { isFinalStatus, REVIEWS_QUEUE, reviewRequestSchema } from '@kritik/core';
import { ReviewLifecycle } from '@kritik/server';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/worker.config.js';
import { RunnerAccess } from '../health/runner-access.service.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { type ExistingRun, REVIEW_RUNNER, type ReviewRunner } from '../runner/review-runner.js';
import { ReviewExecution } from './review-execution.service.js';
import { SchedulingGate } from './scheduling-gate.js';
import { WORKER_CONFIG, WORKER_LOGGER } from './tokens.js';

export type ReconcileAction = 'live' | 'ended' | 'deleted' | 'adopted' | 'busy';

export interface ReconcileReport {
  readonly runs: number;
  readonly actions: Readonly<Record<string, ReconcileAction>>;
}

/** Queue states in which an entry will still be processed. */
const LIVE_STATES = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'] as const;

@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<ReconcileReport> | undefined;
  private readonly adopting = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
    @Inject(REVIEW_RUNNER) private readonly runner: ReviewRunner,
    @InjectQueue(REVIEWS_QUEUE) private readonly queue: Queue,
    private readonly lifecycle: ReviewLifecycle,
    private readonly gate: SchedulingGate,
    private readonly execution: ReviewExecution,
    private readonly access: RunnerAccess,
    private readonly metrics: WorkerMetrics,
  ) {}

  onApplicationBootstrap() {
    void this.access.whenGranted().then(() => this.tick());
  }

  onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One pass (a pass already under way is joined, not doubled). */
  reconcile(): Promise<ReconcileReport> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Adoptions started by past passes that are still following their review. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.adopting.values()]);
  }

  private async tick() {
    if (this.stopped) return;
    await this.reconcile().catch((err) => this.logger.warn({ err }, 'reconcile failed'));
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.config.scheduling.reconcileIntervalSeconds * 1000);
    this.timer.unref();
  }

  private async pass(): Promise<ReconcileReport> {
    const runs = await this.runner.listRuns();
    const actions: Record<string, ReconcileAction> = {};
    if (runs.length === 0) return { runs: 0, actions };
    const queued = await this.queuedReviewIds();
    for (const run of runs) {
      try {
        actions[run.reviewId] = await this.settle(run, queued);
      } catch (err) {
        this.logger.warn({ err, reviewId: run.reviewId }, 'could not reconcile a review Job');
      }
    }
    const counted = Object.values(actions).filter((a) => a !== 'live');
    if (counted.length > 0) this.logger.info({ actions }, 'reconciled review Jobs');
    return { runs: runs.length, actions };
  }

  private async settle(run: ExistingRun, queued: ReadonlySet<string>): Promise<ReconcileAction> {
    if (this.adopting.has(run.reviewId)) return 'live';
    const record = await this.lifecycle.get(run.reviewId);
    if (record && isFinalStatus(record.status)) {
      if (run.finished) return 'ended'; // ttlSecondsAfterFinished removes it.
      await this.runner.discard(run.reviewId);
      this.metrics.reconciled.inc({ action: 'deleted' });
      return 'deleted';
    }
    if (queued.has(run.reviewId)) return 'live';
    const review = run.review;
    if (!review) {
      await this.runner.discard(run.reviewId);
      this.metrics.reconciled.inc({ action: 'deleted' });
      return 'deleted';
    }
    const holder = await this.gate.holderOf(review);
    if (holder?.reviewId === review.reviewId) return 'live';
    const by = await this.lifecycle.supersededBy(review);
    if (by) {
      await this.runner.discard(review.reviewId);
      const end = await this.execution.recordEnd(review, {
        ...this.lifecycle.supersededEnding(by),
        cause: 'superseded',
      });
      // Its reviewer may have left an in-progress check run on the old commit.
      if (end.kind === 'finished') await this.execution.cancelSupersededCheckRun(review, by);
      this.metrics.reconciled.inc({ action: 'deleted' });
      return 'deleted';
    }
    if (holder) return 'busy'; // Another review of this PR runs; look again next pass.
    const ours = await this.gate.adopt(review);
    if (!ours) return 'busy';
    // Running the review again adopts its Job (409) or, when it finished, reads its result.
    const adoption = this.execution
      .execute(review, ours)
      .catch((err) => this.logger.warn({ err, reviewId: review.reviewId }, 'adopting a review failed'))
      .finally(() => this.adopting.delete(review.reviewId));
    this.adopting.set(review.reviewId, adoption);
    this.metrics.reconciled.inc({ action: 'adopted' });
    this.logger.info({ reviewId: review.reviewId, finished: run.finished }, 'adopting an orphaned review Job');
    return 'adopted';
  }

  private async queuedReviewIds(): Promise<Set<string>> {
    const jobs = await this.queue.getJobs([...LIVE_STATES]);
    const ids = new Set<string>();
    for (const job of jobs) {
      const parsed = reviewRequestSchema.shape.reviewId.safeParse(
        (job?.data as { reviewId?: unknown } | undefined)?.reviewId,
      );
      if (parsed.success) ids.add(parsed.data);
    }
    return ids;
  }
}
