// Builds the backend application from a validated config; main.ts and the tests share it.
import type { Server } from 'node:http';
import { createLogger, type Logger, PinoLoggerService } from '@kritik/server';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import type { BackendConfig } from './config/backend.config.js';
import { dashboardAssetsDir, staticDashboard } from './dashboard/dashboard.static.js';
import { serveWebhooksDirectly } from './webhooks/webhooks.route.js';

export interface CreateAppOptions {
  readonly logger?: Logger;
}

export async function createApp(config: BackendConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const logger = options.logger ?? createLogger({ name: 'backend', level: config.logLevel });
  const app = await NestFactory.create(AppModule.forRoot(config, logger), {
    // The webhook controller reads raw bytes itself: the signature covers them exactly.
    bodyParser: false,
    logger: new PinoLoggerService(logger.child({ component: 'nest' })),
    forceCloseConnections: true,
  });
  app.enableShutdownHooks();
  serveWebhooksDirectly(app);
  if (config.dashboard) app.use(staticDashboard(dashboardAssetsDir(config.dashboard.dir)));
  // Node waits 60 s for headers and 300 s for a request by default: far too long for a
  // connection that holds memory before anything about it is verified. The webhook receiver
  // ends a slow body itself, with a JSON answer, before the server's own limit.
  const server = app.getHttpServer() as Server;
  server.headersTimeout = Math.min(10_000, config.webhooks.bodyTimeoutMs);
  server.requestTimeout = config.webhooks.bodyTimeoutMs + 5_000;
  return app;
}
