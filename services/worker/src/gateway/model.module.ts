// How review Jobs reach the model: directly with the Anthropic key (local runs), or through the
// worker's model gateway, which hands each review a token that ends with it and a dollar ceiling
// (ADR 0010): its grants, the access it hands out, and its server.
import { DEFAULT_ANTHROPIC_BASE_URL } from '@kritik/core';
import { type Logger, REDIS } from '@kritik/server';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { WorkerConfig } from '../config/worker.config.js';
import { WORKER_LOGGER } from '../scheduling/tokens.js';
import { GatewayGrants } from './gateway-grants.js';
import { DirectModelAccess, GatewayModelAccess, MODEL_ACCESS } from './model-access.js';
import { ModelGateway } from './model-gateway.js';

/** Direct model access, or the gateway: its grants, the access it hands out, and its server. */
function modelProviders(config: WorkerConfig): Provider[] {
  const { gateway, anthropic, model } = config;
  if (!gateway.url) return [{ provide: MODEL_ACCESS, useValue: new DirectModelAccess(anthropic.baseUrl, model) }];
  const url = gateway.url;
  // A grant never outlives the review's Job: its deadline, and the margin before the worker deletes it.
  const ttlSeconds = config.reviewJob.activeDeadlineSeconds + config.kubernetes.deadlineMarginSeconds;
  return [
    { provide: GatewayGrants, inject: [REDIS], useFactory: (redis: Redis) => new GatewayGrants(redis) },
    {
      provide: MODEL_ACCESS,
      inject: [GatewayGrants],
      useFactory: (grants: GatewayGrants) => new GatewayModelAccess(grants, url, ttlSeconds, model),
    },
    {
      provide: ModelGateway,
      inject: [GatewayGrants, Registry, WORKER_LOGGER, REDIS],
      useFactory: (grants: GatewayGrants, registry: Registry, logger: Logger, redis: Redis) =>
        new ModelGateway(
          grants,
          gateway,
          {
            baseUrl: anthropic.baseUrl ?? DEFAULT_ANTHROPIC_BASE_URL,
            ...(anthropic.apiKey ? { apiKey: anthropic.apiKey } : {}),
            ...(model ? { model } : {}),
          },
          registry,
          logger,
          // model.maxConcurrency holds across every replica (ADR 0045).
          redis,
        ),
    },
  ];
}

@Module({})
export class ModelModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    return { module: ModelModule, providers: modelProviders(config), exports: [MODEL_ACCESS] };
  }
}
