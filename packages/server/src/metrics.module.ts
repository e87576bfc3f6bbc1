// Prometheus metrics: one registry per application (not prom-client's global one, so several
// apps can live in one test process), process metrics, and GET /metrics.
import { Controller, type DynamicModule, Get, Global, Header, Module } from '@nestjs/common';
import { collectDefaultMetrics, prometheusContentType, Registry } from 'prom-client';

/** Prefix of every Kritik metric name (`kritik_<service>_<what>_<unit>`). */
export const METRIC_PREFIX = 'kritik_';

@Controller()
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get('metrics')
  @Header('Content-Type', prometheusContentType)
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsModuleOptions {
  /** Added as a `service` label to every series. */
  readonly service: string;
}

/** Provides the application's prom-client `Registry` (inject it by class) and /metrics. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        {
          provide: Registry,
          useFactory: () => {
            const registry = new Registry();
            registry.setDefaultLabels({ service: options.service });
            // Process metrics keep their conventional names (process_*, nodejs_*) under our prefix.
            collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
            return registry;
          },
        },
      ],
      exports: [Registry],
    };
  }
}
