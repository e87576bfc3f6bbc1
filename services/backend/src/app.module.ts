// The backend application: config and logger, one Redis connection, the shared reviews queue
// (BullMQ on that connection, records, PR heads, lifecycle, enqueuer), webhook intake, reviews
// API, /health, /ready and /metrics.
import {
  HealthModule,
  type Logger,
  MetricsModule,
  RedisHealthIndicator,
  RedisModule,
  ReviewQueueModule,
} from '@kritik/server';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from './config/backend.config.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { LOGGER } from './logger.provider.js';
import { ReviewsModule } from './reviews/reviews.module.js';
import { QueuesHealthIndicator } from './webhooks/queues.health.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/** A Redis command on a request path fails after this long, so a hung Redis is a 503, not a hang. */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;

@Global()
@Module({})
class BackendCoreModule {
  static forRoot(config: BackendConfig, logger: Logger): DynamicModule {
    return {
      module: BackendCoreModule,
      providers: [
        { provide: BACKEND_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [BACKEND_CONFIG, LOGGER],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: BackendConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BackendCoreModule.forRoot(config, logger),
        RedisModule.forRoot({
          connection: config.redis,
          name: 'kritik-backend',
          commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
          logger,
        }),
        ReviewQueueModule.forRoot({
          debounceMs: config.triggers.debounceMs,
          retentionDays: config.history.recordDays,
        }),
        MetricsModule.forRoot({
          service: 'backend',
          ...(config.metricsPort !== undefined ? { port: config.metricsPort, host: config.host } : {}),
        }),
        HealthModule.register({ imports: [WebhooksModule], checks: [RedisHealthIndicator, QueuesHealthIndicator] }),
        WebhooksModule,
        ReviewsModule,
        ...(config.dashboard ? [DashboardModule] : []),
      ],
    };
  }
}
