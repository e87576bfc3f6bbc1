// Builds the worker application from a validated config; main.ts and the tests share it.
import { createLogger, type Logger, PinoLoggerService } from '@kritik/server';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { WorkerConfig } from '../config/worker.config.js';
import { WorkerModule, type WorkerModuleOptions } from './worker.module.js';

export type CreateWorkerOptions = Partial<Omit<WorkerModuleOptions, 'config'>> & { readonly logger?: Logger };

export async function createWorkerApp(
  config: WorkerConfig,
  options: CreateWorkerOptions = {},
): Promise<INestApplication> {
  const logger = options.logger ?? createLogger({ name: 'worker', level: config.logLevel });
  const app = await NestFactory.create(WorkerModule.forRoot({ ...options, config, logger }), {
    logger: new PinoLoggerService(logger.child({ component: 'nest' })),
    forceCloseConnections: true,
  });
  app.enableShutdownHooks();
  return app;
}
