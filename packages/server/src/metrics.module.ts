// Prometheus metrics: one registry per application (not prom-client's global one, so several
// apps can live in one test process), process metrics, and GET /metrics: on a port of its own
// when one is configured (the chart does: scrapers need not reach the public port), else on the
// application's port.
import { createServer, type Server } from 'node:http';
import type { MetricDefinition } from '@kritik/core';
import {
  Controller,
  type DynamicModule,
  Get,
  Global,
  Header,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  prometheusContentType,
  Registry,
} from 'prom-client';
import { listen, portOf } from './listen.js';

/** Prefix of every Kritik metric name (`kritik_<service>_<what>_<unit>`). */
export const METRIC_PREFIX = 'kritik_';

/** The label names of a series of core's `METRICS` table. */
type LabelsOf<D extends MetricDefinition> = D['labels'][number];

const configOf = <D extends MetricDefinition>(registry: Registry, metric: D) => ({
  name: metric.name,
  help: metric.help,
  labelNames: metric.labels as readonly LabelsOf<D>[],
  registers: [registry],
});

// Series are registered only from core's METRICS table, so name, help and labels cannot drift
// from the dashboard, the alerts and the documentation that are checked against it.

/** Registers a counter of `METRICS` in `registry`. */
export const counterOf = <const D extends MetricDefinition<'counter'>>(
  registry: Registry,
  metric: D,
  extra: Pick<CounterConfiguration<LabelsOf<D>>, 'collect'> = {},
) => new Counter<LabelsOf<D>>({ ...configOf(registry, metric), ...extra });

/** Registers a gauge of `METRICS` in `registry`; `collect` refreshes it on each scrape. */
export const gaugeOf = <const D extends MetricDefinition<'gauge'>>(
  registry: Registry,
  metric: D,
  extra: Pick<GaugeConfiguration<LabelsOf<D>>, 'collect'> = {},
) => new Gauge<LabelsOf<D>>({ ...configOf(registry, metric), ...extra });

/** Registers a histogram of `METRICS` in `registry`, with the table's buckets. */
export const histogramOf = <const D extends MetricDefinition<'histogram'>>(registry: Registry, metric: D) =>
  new Histogram<LabelsOf<D>>({
    ...configOf(registry, metric),
    ...(metric.buckets ? { buckets: [...metric.buckets] } : {}),
  });

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

/** GET /metrics on its own port; nothing else is served there. */
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly port: number,
    private readonly host?: string,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': prometheusContentType, 'cache-control': 'no-store' }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await listen(server, this.port, this.host);
    this.server = server;
  }

  /** The port it listens on (the one asked for, or the one given for port 0). */
  get address(): number | undefined {
    return portOf(this.server);
  }

  onApplicationShutdown(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface MetricsModuleOptions {
  /** Added as a `service` label to every series. */
  readonly service: string;
  /** Serve /metrics on this port instead of the application's (undefined: the application's). */
  readonly port?: number;
  readonly host?: string;
}

/** Provides the application's prom-client `Registry` (inject it by class) and /metrics. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    const ownPort = options.port;
    return {
      module: MetricsModule,
      controllers: ownPort === undefined ? [MetricsController] : [],
      providers: [
        ...(ownPort === undefined
          ? []
          : [
              {
                provide: MetricsServer,
                inject: [Registry],
                useFactory: (registry: Registry) => new MetricsServer(registry, ownPort, options.host),
              },
            ]),
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
