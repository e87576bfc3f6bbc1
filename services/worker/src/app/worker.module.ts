// The worker application: config and logger, one Redis connection shared with BullMQ, the
// GitHub App, the runner chosen by KRITIK_RUNNER, the reviews and commands consumers, /health,
// /ready, /metrics.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_ANTHROPIC_BASE_URL, QUEUE_PREFIX } from '@kritik/core';
import {
  HealthModule,
  type Logger,
  MetricsModule,
  PrHeadStore,
  REDIS,
  RedisHealthIndicator,
  RedisModule,
  ReviewStore,
} from '@kritik/server';
import type { KubeConfig } from '@kubernetes/client-node';
import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { CommandsModule } from '../commands/commands.module.js';
import { effectiveRunner, type WorkerConfig } from '../config/worker.config.js';
import { GatewayGrants } from '../gateway/gateway-grants.js';
import { DirectModelAccess, GatewayModelAccess, MODEL_ACCESS } from '../gateway/model-access.js';
import { ModelGateway } from '../gateway/model-gateway.js';
import { CheckRuns } from '../github/check-runs.js';
import { GitHubAppClient } from '../github/github-app.client.js';
import { RunnerAccessReadiness } from '../health/runner-access.readiness.js';
import { RunnerAccess } from '../health/runner-access.service.js';
import type { KubernetesClient } from '../kubernetes/kubernetes.client.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { LocalProcessRunner } from '../runner/local-process.runner.js';
import { REVIEW_RUNNER, type ReviewRunner } from '../runner/review-runner.js';
import { defaultReviewerCommand } from '../runner/reviewer-command.js';
import { PrLeases } from '../scheduling/pr-lease.js';
import { ReviewSlots } from '../scheduling/review-slots.js';
import { ReviewsModule } from '../scheduling/reviews.module.js';
import { KUBERNETES_CLIENT, WORKER_CONFIG, WORKER_ID, WORKER_LOGGER } from '../scheduling/tokens.js';

export interface WorkerModuleOptions {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  /** Cluster access for the kubernetes runner; by default from config (kubeconfig file or in-cluster). */
  readonly kubeConfig?: KubeConfig;
  /** Where local reviewer processes take PATH and HOME from (nothing else); process.env by default. */
  readonly processEnv?: NodeJS.ProcessEnv;
}

function runnerProviders(options: WorkerModuleOptions): Provider[] {
  const { config } = options;
  if (effectiveRunner(config) === 'local') {
    return [
      {
        provide: REVIEW_RUNNER,
        useFactory: (): ReviewRunner =>
          new LocalProcessRunner(
            {
              command: config.local.command ?? defaultReviewerCommand(),
              settings: config.reviewJob,
              ...(config.anthropic.apiKey ? { anthropicApiKey: config.anthropic.apiKey } : {}),
            },
            options.processEnv ?? process.env,
          ),
      },
    ];
  }
  // Loaded only for this runner: @kubernetes/client-node's generated API and models are the
  // largest part of the worker's memory, and the local runner never needs them.
  return [
    {
      provide: KUBERNETES_CLIENT,
      inject: [WorkerMetrics, WORKER_LOGGER],
      useFactory: async (metrics: WorkerMetrics, logger: Logger): Promise<KubernetesClient> => {
        const { KubernetesClient, kubeConfigFrom } = await import('../kubernetes/kubernetes.client.js');
        return new KubernetesClient(
          options.kubeConfig ?? kubeConfigFrom(config.kubernetes),
          config.kubernetes.namespace!,
          config.kubernetes.retry,
          {
            onRetry: (op, attempt, delayMs, err) => {
              metrics.kubernetesRetries.inc({ verb: op.verb, resource: op.resource });
              logger.warn(
                { verb: op.verb, resource: op.resource, attempt, delayMs, status: (err as { code?: unknown }).code },
                'retrying a Kubernetes API call',
              );
            },
          },
        );
      },
    },
    {
      provide: REVIEW_RUNNER,
      inject: [KUBERNETES_CLIENT, WORKER_LOGGER],
      useFactory: async (client: KubernetesClient, logger: Logger): Promise<ReviewRunner> => {
        const { KubernetesJobRunner } = await import('../kubernetes/kubernetes-job.runner.js');
        return new KubernetesJobRunner(client, {
          settings: config.reviewJob,
          deadlineMarginSeconds: config.kubernetes.deadlineMarginSeconds,
          onWatchError: (err) => logger.debug({ err }, 'review Job watch interrupted; resuming'),
        });
      },
    },
  ];
}

/** Direct model access, or the gateway: its grants, the access it hands out, and its server. */
function modelProviders(config: WorkerConfig): Provider[] {
  const { gateway, anthropic } = config;
  if (!gateway.url) return [{ provide: MODEL_ACCESS, useValue: new DirectModelAccess(anthropic.baseUrl) }];
  const url = gateway.url;
  // A grant never outlives the review's Job: its deadline, and the margin before the worker deletes it.
  const ttlSeconds = config.reviewJob.activeDeadlineSeconds + config.kubernetes.deadlineMarginSeconds;
  return [
    { provide: GatewayGrants, inject: [REDIS], useFactory: (redis: Redis) => new GatewayGrants(redis) },
    {
      provide: MODEL_ACCESS,
      inject: [GatewayGrants],
      useFactory: (grants: GatewayGrants) => new GatewayModelAccess(grants, url, ttlSeconds),
    },
    {
      provide: ModelGateway,
      inject: [GatewayGrants, Registry, WORKER_LOGGER],
      useFactory: (grants: GatewayGrants, registry: Registry, logger: Logger) =>
        new ModelGateway(
          grants,
          gateway,
          {
            baseUrl: anthropic.baseUrl ?? DEFAULT_ANTHROPIC_BASE_URL,
            ...(anthropic.apiKey ? { apiKey: anthropic.apiKey } : {}),
          },
          registry,
          logger,
        ),
    },
  ];
}

@Global()
@Module({})
class WorkerCoreModule {
  static forRoot(options: WorkerModuleOptions): DynamicModule {
    const { config, logger } = options;
    const providers: Provider[] = [
      { provide: WORKER_CONFIG, useValue: config },
      { provide: WORKER_LOGGER, useValue: logger },
      { provide: WORKER_ID, useValue: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}` },
      WorkerMetrics,
      ReviewStore,
      PrHeadStore,
      PrLeases,
      {
        provide: ReviewSlots,
        inject: [REDIS],
        useFactory: (redis: Redis) =>
          new ReviewSlots(redis, {
            global: config.scheduling.concurrency,
            perRepo: config.scheduling.perRepoConcurrency,
          }),
      },
      {
        provide: GitHubAppClient,
        useFactory: () =>
          new GitHubAppClient({
            appId: config.github.appId,
            privateKey: config.github.privateKey,
            apiUrl: config.github.apiUrl,
          }),
      },
      CheckRuns,
      ...runnerProviders(options),
      ...modelProviders(config),
      RunnerAccess,
    ];
    return {
      module: WorkerCoreModule,
      providers,
      exports: providers.map((p) => ('provide' in p ? p.provide : p)),
    };
  }
}

@Module({})
export class WorkerModule {
  static forRoot(options: WorkerModuleOptions): DynamicModule {
    const { config, logger } = options;
    return {
      module: WorkerModule,
      imports: [
        MetricsModule.forRoot({
          service: 'worker',
          ...(config.metricsPort !== undefined ? { port: config.metricsPort } : {}),
        }),
        RedisModule.forRoot({ connection: config.redis, name: 'kritik-worker', logger }),
        BullModule.forRootAsync({
          inject: [REDIS],
          useFactory: (redis: Redis) => ({ connection: redis, prefix: QUEUE_PREFIX }),
        }),
        WorkerCoreModule.forRoot(options),
        HealthModule.register({ checks: [RedisHealthIndicator, RunnerAccessReadiness] }),
        ReviewsModule.register(config.scheduling),
        CommandsModule.register(config.commands),
      ],
    };
  }
}
