// The feature module that consumes the `reviews` queue (the queue itself, its records and the
// lifecycle come from the shared ReviewQueueModule): the processor, the scheduling gate, the
// execution of one review, and the reconciler of review Jobs against the queue.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { REVIEWS_QUEUE } from '@kritik/core';
import { queueRecoveryProvider, REDIS } from '@kritik/server';
import { type DynamicModule, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BudgetLedger } from '../budgets/budget-ledger.js';
import type { SchedulingSettings, WorkerConfig } from '../config/worker.config.js';
import { CodeHostModule } from '../github/code-host.module.js';
import { WorkerMetricsModule } from '../metrics/worker-metrics.module.js';
import { PrLeases } from './pr-lease.js';
import { Reconciler } from './reconcile.service.js';
import { ReviewExecution } from './review-execution.service.js';
import { ReviewSlots } from './review-slots.js';
import { configuredReviewsProcessor, ReviewsProcessor } from './reviews.processor.js';
import { SchedulingGate } from './scheduling-gate.js';
import { WORKER_CONFIG, WORKER_LOGGER } from './tokens.js';

export interface ReviewsModuleImports {
  /** RunnerModule: where reviews run and whether they may. */
  readonly runner: DynamicModule;
  /** ModelModule: the model access each review is given. */
  readonly model: DynamicModule;
  /** PoliciesModule: the ReviewPolicies each review is shaped by. */
  readonly policies?: DynamicModule;
}

@Module({})
export class ReviewsModule {
  static register(settings: SchedulingSettings, features: ReviewsModuleImports): DynamicModule {
    return {
      module: ReviewsModule,
      imports: [
        WorkerMetricsModule,
        CodeHostModule,
        features.runner,
        features.model,
        ...(features.policies ? [features.policies] : []),
      ],
      providers: [
        PrLeases,
        {
          provide: SchedulingGate,
          inject: [PrLeases, REDIS],
          useFactory: (leases: PrLeases, redis: Redis) =>
            new SchedulingGate(
              leases,
              new ReviewSlots(redis, { global: settings.concurrency, perRepo: settings.perRepoConcurrency }),
              {
                // Unique per process: a lease names the worker holding it.
                workerId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
                leaseTtlMs: settings.leaseTtlSeconds * 1000,
              },
            ),
        },
        {
          provide: BudgetLedger,
          inject: [REDIS, WORKER_CONFIG],
          useFactory: (redis: Redis, config: WorkerConfig) =>
            new BudgetLedger(redis, {
              // Past the longest a review may run, so only a review lost for good lets go of its reservation.
              reservationTtlMs:
                (config.reviewJob.activeDeadlineSeconds + config.kubernetes.deadlineMarginSeconds) * 1000 + 60_000,
            }),
        },
        ReviewExecution,
        Reconciler,
        // The long-lived `reviews` Queue (the reconciler reads it, `@<bot> review` adds to it):
        // one failed connection set-up must not break it until a restart (ADR 0006).
        queueRecoveryProvider(WORKER_LOGGER, REVIEWS_QUEUE),
        { provide: ReviewsProcessor, useClass: configuredReviewsProcessor(settings) },
      ],
      exports: [ReviewExecution, Reconciler, ReviewsProcessor],
    };
  }
}
