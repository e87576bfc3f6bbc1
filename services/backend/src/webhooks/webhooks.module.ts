// The webhook intake feature: its controller, the queues it produces to, and what it needs.
import { COMMANDS_QUEUE, REVIEWS_QUEUE } from '@kritik/core';
import { PrHeadStore, REDIS, ReviewEnqueuer, type ReviewQueue, ReviewStore } from '@kritik/server';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { DeliveryLedger } from '../intake/delivery.ledger.js';
import { IntakeService } from '../intake/intake.service.js';
import { QueueReadiness } from './queues.readiness.js';
import { UnverifiedBodies } from './unverified-bodies.js';
import { WebhookSignature } from './webhook.signature.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhookMetrics } from './webhooks.metrics.js';
import { WebhookReceiver } from './webhooks.receiver.js';

@Module({
  imports: [BullModule.registerQueue({ name: REVIEWS_QUEUE }, { name: COMMANDS_QUEUE })],
  controllers: [WebhooksController],
  providers: [
    {
      provide: WebhookSignature,
      inject: [BACKEND_CONFIG],
      useFactory: (config: BackendConfig) => new WebhookSignature(config.github.webhookSecret),
    },
    DeliveryLedger,
    IntakeService,
    PrHeadStore,
    QueueReadiness,
    {
      provide: ReviewEnqueuer,
      inject: [getQueueToken(REVIEWS_QUEUE), ReviewStore, REDIS, BACKEND_CONFIG],
      useFactory: (queue: ReviewQueue, store: ReviewStore, redis: Redis, config: BackendConfig) =>
        new ReviewEnqueuer(queue, store, redis, { debounceMs: config.triggers.debounceMs }),
    },
    ReviewStore,
    WebhookMetrics,
    WebhookReceiver,
    {
      provide: UnverifiedBodies,
      inject: [BACKEND_CONFIG],
      useFactory: (config: BackendConfig) =>
        new UnverifiedBodies({
          maxBytes: config.webhooks.maxUnverifiedBytes,
          maxBodies: config.webhooks.maxUnverifiedBodies,
        }),
    },
  ],
  exports: [QueueReadiness],
})
export class WebhooksModule {}
