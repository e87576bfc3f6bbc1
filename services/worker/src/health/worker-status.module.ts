// The replica's heartbeat for the Platform page: the publisher and the store it writes through.
import { WorkerStatusStore } from '@kritik/server';
import { type DynamicModule, Module } from '@nestjs/common';
import { WorkerMetricsModule } from '../metrics/worker-metrics.module.js';
import { WORKER_STATUS_OPTIONS, type WorkerStatusOptions, WorkerStatusPublisher } from './worker-status.publisher.js';

@Module({})
export class WorkerStatusModule {
  /** `runner`: the RunnerModule instance, whose RunnerAccess the status reports. */
  static register(runner: DynamicModule, options: WorkerStatusOptions = {}): DynamicModule {
    return {
      module: WorkerStatusModule,
      imports: [runner, WorkerMetricsModule],
      providers: [WorkerStatusStore, WorkerStatusPublisher, { provide: WORKER_STATUS_OPTIONS, useValue: options }],
      exports: [WorkerStatusPublisher],
    };
  }
}
