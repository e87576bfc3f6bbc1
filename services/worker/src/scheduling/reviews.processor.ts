// The consumer of the `reviews` queue: one running review per PR (a Redis lease), a newer head SHA
// supersedes an older review, global and per-repository caps, and a review that must wait goes
// back to the delayed set instead of holding a consumer slot. An accepted review gets its queued
// check run at once, so the PR shows it while it waits.
import { hasCheckRun, isFinalStatus, REVIEWS_QUEUE, type ReviewRequest, reviewRequestSchema } from '@kritik/core';
import { keepConsuming, ReviewLifecycle } from '@kritik/server';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type BeforeApplicationShutdown, Inject, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CodeHosts } from '../code-host/code-host.js';
import type { SchedulingSettings, WorkerConfig } from '../config/worker.config.js';
import { RunnerAccess } from '../health/runner-access.service.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { type ExecutionEnd, ReviewExecution } from './review-execution.service.js';
import { SchedulingGate, type WaitWhy } from './scheduling-gate.js';
import { WORKER_CONFIG, WORKER_LOGGER } from './tokens.js';

/** How soon a review let go at shutdown is up for another worker. */
const HAND_BACK_DELAY_MS = 1_000;

export class ReviewsProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
    private readonly execution: ReviewExecution,
    private readonly gate: SchedulingGate,
    private readonly lifecycle: ReviewLifecycle,
    private readonly access: RunnerAccess,
    private readonly metrics: WorkerMetrics,
    private readonly hosts: CodeHosts,
  ) {
    super();
  }

  onApplicationBootstrap() {
    this.worker.on('stalled', (jobId) => {
      this.metrics.stalled.inc();
      this.logger.warn({ jobId }, 'recovered a review whose worker stopped');
    });
    this.worker.on('error', (err) => this.logger.warn({ err }, 'queue consumer error'));
    // Consuming before the runner may create Jobs would only fail reviews; they wait instead.
    void this.access.whenGranted().then(() => {
      if (this.worker.closing) return;
      this.logger.info({ concurrency: this.worker.concurrency }, 'consuming the reviews queue');
      void keepConsuming(this.worker, this.logger);
    });
  }

  async beforeApplicationShutdown() {
    // Running reviews are let go, not ended: their queue entries go back to wait and the next
    // worker adopts their Jobs. Waiting out a 10-minute review would outlast any grace period.
    // Paused first, or the consumer would take the handed-back entries again at once.
    if (this.worker.isRunning()) await this.worker.pause(true);
    this.execution.detachAll();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.idle = resolve;
        }),
        new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
      ]);
    }
    await this.worker.close(true);
  }

  async process(job: Job, token?: string): Promise<ExecutionEnd | { kind: 'superseded' }> {
    this.inFlight++;
    try {
      return await this.handle(job, token);
    } finally {
      if (--this.inFlight === 0) this.idle?.();
    }
  }

  private async handle(job: Job, token?: string): Promise<ExecutionEnd | { kind: 'superseded' }> {
    const parsed = reviewRequestSchema.safeParse(job.data);
    if (!parsed.success) {
      // Nothing identifies a review here, so it cannot be recorded; the failed queue entry shows it.
      this.logger.error({ jobId: job.id }, 'invalid review job in the queue');
      throw new UnrecoverableError(`invalid review job: ${z.prettifyError(parsed.error)}`);
    }
    let review = parsed.data;
    const existing = await this.lifecycle.get(review.reviewId);
    // A review that ended must not become its PR's head again (that would supersede a newer one).
    if (existing && isFinalStatus(existing.status)) return { kind: 'duplicate', status: existing.status };

    const admission = await this.lifecycle.admit(review);
    if (!admission.admitted) {
      // Queued when it was its PR's head; a newer commit came while it waited. The PR shows the
      // ending before the record does, as every other ending.
      if (review.checkRunId !== undefined) {
        await this.execution.cancelSupersededCheckRun(review, admission.by);
      }
      await this.execution.recordEnd(review, { ...admission.ending, cause: 'superseded' });
      return { kind: 'superseded' };
    }
    review = await this.withCheckRun(job, review);

    const gate = await this.gate.enter(review, String(job.id));
    if (!gate.entered) return this.defer(job, token, gate.why);

    const end = await this.execution.execute(review, gate.holder);
    if (end.kind === 'detached') {
      // Back to the queue so another worker picks it up soon and adopts the running review.
      // Delayed, not waiting: a consumer blocked on the queue would take a waiting entry at once,
      // this very worker's too while it shuts down.
      await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token).catch((err) =>
        // Lock already lost: the queue entry is recovered as a stalled job instead.
        this.logger.warn({ err, jobId: job.id }, 'could not hand the review back to the queue'),
      );
      throw new DelayedError();
    }
    return end;
  }

  /**
   * The review with its queued check run (GitLab: pending commit status), created once: the id
   * stays with the queue entry, so a deferral, a retry or a recovered entry finds it. Without one
   * (the code host refused) the review still runs and the reviewer creates its run when it starts.
   */
  private async withCheckRun(job: Job, review: ReviewRequest): Promise<ReviewRequest> {
    if (review.checkRunId !== undefined || !hasCheckRun(review.trigger)) return review;
    let checkRunId: number;
    try {
      checkRunId = await this.hosts.of(review.platform).queueStatus(review);
    } catch (err) {
      this.logger.warn({ err, reviewId: review.reviewId }, 'could not create the queued check run');
      return review;
    }
    await job.updateData({ ...job.data, checkRunId }).catch((err) =>
      // Kept in memory for this attempt; a later attempt would create a second run.
      this.logger.warn({ err, reviewId: review.reviewId }, 'could not keep the check run id with the queue entry'),
    );
    return { ...review, checkRunId };
  }

  private get settings(): SchedulingSettings {
    return this.config.scheduling;
  }

  private async defer(job: Job, token: string | undefined, why: WaitWhy): Promise<never> {
    this.metrics.deferred.inc({ why });
    const jitter = Math.floor(Math.random() * this.settings.busyRetryMs * 0.25);
    await job.moveToDelayed(Date.now() + this.settings.busyRetryMs + jitter, token);
    throw new DelayedError();
  }
}

/**
 * The processor class with BullMQ worker options from config: @Processor options are read from
 * class metadata, so each configuration gets its own decorated subclass. autorun is off: the
 * consumer starts once the runner's permissions are granted.
 */
export function configuredReviewsProcessor(settings: SchedulingSettings): Type<ReviewsProcessor> {
  @Processor(REVIEWS_QUEUE, {
    autorun: false,
    concurrency: settings.replicaConcurrency ?? settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
  })
  class ConfiguredReviewsProcessor extends ReviewsProcessor {}
  return ConfiguredReviewsProcessor;
}
