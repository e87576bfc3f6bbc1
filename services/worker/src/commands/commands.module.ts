// The feature module that owns the `commands` queue on the consumer side (ADR 0006): the
// processor and what each command does; `@<bot> review` queues through the shared ReviewEnqueuer.
import { COMMANDS_QUEUE } from '@kritik/core';
import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { CommandSettings } from '../config/worker.config.js';
import { CodeHostModule } from '../github/code-host.module.js';
import { WorkerMetricsModule } from '../metrics/worker-metrics.module.js';
import { CommandService } from './command.service.js';
import { CommandsProcessor, configuredCommandsProcessor } from './commands.processor.js';

@Module({})
export class CommandsModule {
  static register(settings: CommandSettings): DynamicModule {
    return {
      module: CommandsModule,
      imports: [BullModule.registerQueue({ name: COMMANDS_QUEUE }), WorkerMetricsModule, CodeHostModule],
      providers: [CommandService, { provide: CommandsProcessor, useClass: configuredCommandsProcessor(settings) }],
      exports: [CommandsProcessor],
    };
  }
}
