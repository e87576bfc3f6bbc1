// The feature module that owns the `commands` queue on the consumer side (ADR 0006): the
// processor, what each command does, and the producer side of `reviews` that `@<bot> review` uses.
import { COMMANDS_QUEUE, REVIEWS_QUEUE } from '@kritik/core';
import { REDIS, ReviewEnqueuer, type ReviewQueue, ReviewStore } from '@kritik/server';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { CommandSettings, WorkerConfig } from '../config/worker.config.js';
import { queueRecoveryProvider } from '../scheduling/queue-recovery.provider.js';
import { WORKER_CONFIG } from '../scheduling/tokens.js';
import { CommandService } from './command.service.js';
import { CommandsProcessor, configuredCommandsProcessor } from './commands.processor.js';

@Module({})
export class CommandsModule {
  static register(settings: CommandSettings): DynamicModule {
    return {
      module: CommandsModule,
      imports: [BullModule.registerQueue({ name: COMMANDS_QUEUE }, { name: REVIEWS_QUEUE })],
      providers: [
        {
          provide: ReviewEnqueuer,
          inject: [getQueueToken(REVIEWS_QUEUE), ReviewStore, REDIS, WORKER_CONFIG],
          useFactory: (queue: ReviewQueue, store: ReviewStore, redis: Redis, config: WorkerConfig) =>
            new ReviewEnqueuer(queue, store, redis, { debounceMs: config.triggers.debounceMs }),
        },
        CommandService,
        queueRecoveryProvider(REVIEWS_QUEUE),
        { provide: CommandsProcessor, useClass: configuredCommandsProcessor(settings) },
      ],
      exports: [CommandsProcessor],
    };
  }
}
