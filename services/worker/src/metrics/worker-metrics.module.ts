// The worker's own metrics on the process registry (MetricsModule), for every feature that counts.
import { Module } from '@nestjs/common';
import { WorkerMetrics } from './worker.metrics.js';

@Module({ providers: [WorkerMetrics], exports: [WorkerMetrics] })
export class WorkerMetricsModule {}
