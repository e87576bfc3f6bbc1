// The backend's webhook queues under the shared QueueRecovery (@kritik/server): a failed
// connection set-up is redone instead of failing every delivery, and /ready says which queue
// cannot be used.
import { COMMANDS_QUEUE, REVIEWS_QUEUE } from '@kritik/core';
import { type Logger, QueueRecovery } from '@kritik/server';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { LOGGER } from '../logger.provider.js';

@Injectable()
export class QueueReadiness implements OnModuleInit, OnApplicationShutdown {
  private readonly recovery: QueueRecovery;

  constructor(
    @InjectQueue(REVIEWS_QUEUE) reviews: Queue,
    @InjectQueue(COMMANDS_QUEUE) commands: Queue,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.recovery = new QueueRecovery([reviews, commands], logger);
  }

  onModuleInit() {
    this.recovery.onModuleInit();
  }

  onApplicationShutdown() {
    this.recovery.onApplicationShutdown();
  }

  /** Names of the queues that cannot take commands now, with why; empty when all can. */
  unusable(timeoutMs?: number): Promise<Record<string, string>> {
    return this.recovery.unusable(timeoutMs);
  }
}
