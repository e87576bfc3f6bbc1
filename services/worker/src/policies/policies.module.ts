// The ReviewPolicies a review is shaped by: the watcher of the release namespace when the worker
// is given one (the chart always does), else a source that applies none.
import { BudgetSnapshotStore, REDIS } from '@kritik/server';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/worker.config.js';
import { kubeConfigFrom } from '../kubernetes/kubernetes.client.js';
import { WORKER_LOGGER } from '../scheduling/tokens.js';
import { DEFAULT_POLICY_WATCH, POLICY_LAYERS, type PolicyLayers, PolicyWatcher } from './policy-watcher.js';

const NO_POLICIES: PolicyLayers = { layerFor: () => undefined };

function policyProviders(config: WorkerConfig): Provider[] {
  const { namespace, resyncSeconds } = config.policies;
  if (!namespace) return [{ provide: POLICY_LAYERS, useValue: NO_POLICIES }];
  return [
    {
      provide: POLICY_LAYERS,
      inject: [WORKER_LOGGER, REDIS],
      useFactory: (logger: Logger, redis: Redis) =>
        new PolicyWatcher(
          kubeConfigFrom(config.kubernetes),
          { ...DEFAULT_POLICY_WATCH, namespace, resyncMs: resyncSeconds * 1000 },
          logger.child({ component: 'policies' }),
          undefined,
          new BudgetSnapshotStore(redis),
        ),
    },
  ];
}

@Module({})
export class PoliciesModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    return { module: PoliciesModule, providers: policyProviders(config), exports: [POLICY_LAYERS] };
  }
}
