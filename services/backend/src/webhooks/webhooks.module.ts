// The webhook intake feature: its controller, the `commands` queue it produces to, and what it
// needs; reviews are recorded and queued through the shared ReviewQueueModule.
import { COMMANDS_QUEUE, REVIEWS_QUEUE } from '@kritik/core';
import { QueueRecovery, queueRecoveryProvider } from '@kritik/server';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { DeliveryLedger } from '../intake/delivery.ledger.js';
import { IntakeService } from '../intake/intake.service.js';
import { LOGGER } from '../logger.provider.js';
import { UnverifiedBodies } from './unverified-bodies.js';
import { WebhookSources } from './webhook.sources.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhookMetrics } from './webhooks.metrics.js';
import { WebhookReceiver } from './webhooks.receiver.js';

@Module({
  imports: [BullModule.registerQueue({ name: COMMANDS_QUEUE })],
  controllers: [WebhooksController],
  providers: [
    WebhookSources,
    DeliveryLedger,
    IntakeService,
    // A failed connection set-up of a webhook queue is redone instead of failing every
    // delivery; /ready says which queue cannot be used meanwhile.
    queueRecoveryProvider(LOGGER, REVIEWS_QUEUE, COMMANDS_QUEUE),
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
  exports: [QueueRecovery],
})
export class WebhooksModule {}
