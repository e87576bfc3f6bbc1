// The feature module that owns the `reviews` queue on the consumer side: the processor, the
// execution of one review, and the reconciler of review Jobs against the queue.
import { REVIEWS_QUEUE } from '@kritik/core';
import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { SchedulingSettings } from '../config/worker.config.js';
import { queueRecoveryProvider } from './queue-recovery.provider.js';
import { Reconciler } from './reconcile.service.js';
import { ReviewExecution } from './review-execution.service.js';
import { configuredReviewsProcessor, ReviewsProcessor } from './reviews.processor.js';

@Module({})
export class ReviewsModule {
  static register(settings: SchedulingSettings): DynamicModule {
    return {
      module: ReviewsModule,
      imports: [BullModule.registerQueue({ name: REVIEWS_QUEUE })],
      providers: [
        ReviewExecution,
        Reconciler,
        queueRecoveryProvider(REVIEWS_QUEUE),
        { provide: ReviewsProcessor, useClass: configuredReviewsProcessor(settings) },
      ],
      exports: [ReviewExecution, Reconciler, ReviewsProcessor],
    };
  }
}
