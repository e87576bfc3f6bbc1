// Where reviews run, chosen by KRITIK_RUNNER: a hardened Kubernetes Job per review (with the
// Kubernetes client, loaded only then) or a local reviewer process; and whether the runner has
// the permissions it needs (RunnerAccess), which gates consuming and readiness.
import type { Logger } from '@kritik/server';
import type { KubeConfig } from '@kubernetes/client-node';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { effectiveRunner, type WorkerConfig } from '../config/worker.config.js';
import { RunnerAccess } from '../health/runner-access.service.js';
import type { KubernetesClient } from '../kubernetes/kubernetes.client.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { WorkerMetricsModule } from '../metrics/worker-metrics.module.js';
import { KUBERNETES_CLIENT, WORKER_LOGGER } from '../scheduling/tokens.js';
import { LocalProcessRunner } from './local-process.runner.js';
import { REVIEW_RUNNER, type ReviewRunner } from './review-runner.js';
import { defaultReviewerCommand } from './reviewer-command.js';

export interface RunnerModuleOptions {
  readonly config: WorkerConfig;
  /** Cluster access for the kubernetes runner; by default from config (kubeconfig file or in-cluster). */
  readonly kubeConfig?: KubeConfig;
  /** Where local reviewer processes take PATH and HOME from (nothing else); process.env by default. */
  readonly processEnv?: NodeJS.ProcessEnv;
}

function runnerProviders(options: RunnerModuleOptions): Provider[] {
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

@Module({})
export class RunnerModule {
  static forRoot(options: RunnerModuleOptions): DynamicModule {
    return {
      module: RunnerModule,
      imports: [WorkerMetricsModule],
      providers: [...runnerProviders(options), RunnerAccess],
      exports: [REVIEW_RUNNER, RunnerAccess],
    };
  }
}
