// The worker application: config and logger, one Redis connection, the shared reviews queue
// (BullMQ on that connection, records, PR heads, lifecycle, enqueuer), the runner chosen by
// KRITIK_RUNNER, the model access, the reviews and commands consumers, /health, /ready, /metrics,
// and the replica's status heartbeat for the dashboard's Platform page.
import {
  HealthModule,
  type Logger,
  MetricsModule,
  RedisHealthIndicator,
  RedisModule,
  ReviewQueueModule,
} from '@kritik/server';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module.js';
import type { WorkerConfig } from '../config/worker.config.js';
import { ModelModule } from '../gateway/model.module.js';
import { RunnerAccessReadiness } from '../health/runner-access.readiness.js';
import { WorkerStatusModule } from '../health/worker-status.module.js';
import type { WorkerStatusOptions } from '../health/worker-status.publisher.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { RunnerModule, type RunnerModuleOptions } from '../runner/runner.module.js';
import { ReviewsModule } from '../scheduling/reviews.module.js';
import { WORKER_CONFIG, WORKER_LOGGER } from '../scheduling/tokens.js';

export interface WorkerModuleOptions extends RunnerModuleOptions {
  readonly logger: Logger;
  /** The heartbeat for the Platform page (tests name their replicas). */
  readonly status?: WorkerStatusOptions;
}

/** The validated config and the logger, which every feature reads; nothing else is global here. */
@Global()
@Module({})
class WorkerContextModule {
  static forRoot(config: WorkerConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerContextModule,
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: WORKER_LOGGER, useValue: logger },
      ],
      exports: [WORKER_CONFIG, WORKER_LOGGER],
    };
  }
}

@Module({})
export class WorkerModule {
  static forRoot(options: WorkerModuleOptions): DynamicModule {
    const { config, logger } = options;
    // One instance each, imported by every feature that needs it.
    const runner = RunnerModule.forRoot(options);
    const model = ModelModule.forRoot(config);
    const policies = PoliciesModule.forRoot(config);
    return {
      module: WorkerModule,
      imports: [
        WorkerContextModule.forRoot(config, logger),
        MetricsModule.forRoot({
          service: 'worker',
          ...(config.metricsPort !== undefined ? { port: config.metricsPort } : {}),
        }),
        RedisModule.forRoot({ connection: config.redis, name: 'kritik-worker', logger }),
        ReviewQueueModule.forRoot({
          debounceMs: config.triggers.debounceMs,
          retentionDays: config.history.recordDays,
        }),
        HealthModule.register({ imports: [runner], checks: [RedisHealthIndicator, RunnerAccessReadiness] }),
        WorkerStatusModule.register(runner, options.status),
        ReviewsModule.register(config.scheduling, { runner, model, policies }),
        CommandsModule.register(config.commands),
      ],
    };
  }
}
