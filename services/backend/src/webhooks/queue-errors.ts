// BullMQ queues report connection errors as 'error' events, printed raw to the console when
// nobody listens. The Redis provider already logs the outage (as JSON, rate-limited), so the
// queues' copies are only counted at debug level.
import { COMMANDS_QUEUE, REVIEWS_QUEUE } from '@kritik/core';
import type { Logger } from '@kritik/server';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { LOGGER } from '../logger.provider.js';

@Injectable()
export class QueueErrors implements OnModuleInit {
  constructor(
    @InjectQueue(REVIEWS_QUEUE) private readonly reviews: Queue,
    @InjectQueue(COMMANDS_QUEUE) private readonly commands: Queue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit() {
    for (const queue of [this.reviews, this.commands]) {
      queue.on('error', (error) => this.logger.debug({ queue: queue.name, err: error }, 'queue connection error'));
    }
  }
}
