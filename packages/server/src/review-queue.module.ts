// The reviews queue as one provider set, declared once and imported at the root of the backend
// and the worker alike: BullMQ on the shared Redis connection, the `reviews` queue, the record
// and PR head stores, the lifecycle over them and the enqueuer. Neither service declares any of
// these itself (ADR 0015).
import { QUEUE_PREFIX, REVIEWS_QUEUE } from '@kritik/core';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PrHeadStore } from './pr-head.store.js';
import { REDIS } from './redis.js';
import { REVIEW_STORE_OPTIONS, ReviewStore, type ReviewStoreOptions } from './review.store.js';
import { ReviewEnqueuer, type ReviewEnqueuerOptions, type ReviewQueue } from './review-enqueuer.js';
import { ReviewLifecycle } from './review-lifecycle.js';

/** What ReviewQueueModule provides, by injection token: one instance of each per process. */
export const REVIEW_QUEUE_PROVIDES = [
  getQueueToken(REVIEWS_QUEUE),
  ReviewStore,
  PrHeadStore,
  ReviewLifecycle,
  ReviewEnqueuer,
] as const;

/**
 * Global, like RedisModule it builds on and BullModule.forRoot it sets up (every queue of the
 * process shares its connection and prefix): one instance of each per process. Needs
 * {@link REDIS} (RedisModule) at the root.
 */
@Module({})
export class ReviewQueueModule {
  static forRoot(options: ReviewEnqueuerOptions & ReviewStoreOptions): DynamicModule {
    const queue = BullModule.registerQueue({ name: REVIEWS_QUEUE });
    const providers = [
      // The records' retention, from the `history` settings both services embed.
      {
        provide: REVIEW_STORE_OPTIONS,
        useValue: { retentionDays: options.retentionDays } satisfies ReviewStoreOptions,
      },
      ReviewStore,
      PrHeadStore,
      ReviewLifecycle,
      {
        provide: ReviewEnqueuer,
        inject: [getQueueToken(REVIEWS_QUEUE), ReviewLifecycle, REDIS],
        useFactory: (reviews: ReviewQueue, lifecycle: ReviewLifecycle, redis: Redis) =>
          new ReviewEnqueuer(reviews, lifecycle, redis, { debounceMs: options.debounceMs }),
      },
    ];
    return {
      module: ReviewQueueModule,
      global: true,
      imports: [
        BullModule.forRootAsync({
          inject: [REDIS],
          useFactory: (redis: Redis) => ({ connection: redis, prefix: QUEUE_PREFIX }),
        }),
        queue,
      ],
      providers,
      exports: [queue, ReviewStore, PrHeadStore, ReviewLifecycle, ReviewEnqueuer],
    };
  }
}
