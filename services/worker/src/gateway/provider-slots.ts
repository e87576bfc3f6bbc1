// `model.maxConcurrency` across the whole cluster: a model call through the gateway holds one of
// its provider's slots in Redis (a lease of LeasedSlots), whichever replica serves it. A lease
// outlives its call by nothing past the upstream timeout, so a replica that died mid-call frees
// its slots on its own. In front of Redis, a per-process limit keeps waiting calls in arrival
// order and off Redis while this replica alone already holds every slot.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrencyLimit, type ModelProvider, redisKeys } from '@kritik/core';
import type { Redis } from 'ioredis';
import { LeasedSlots } from '../scheduling/leased-slots.js';

/** Runs a model call when its provider has room; the gateway's per-process and cluster-wide limits alike. */
export interface CallLimit {
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export interface ProviderSlotsOptions {
  readonly limit: number;
  /** How long a slot is held at most: the call's own timeout and a margin. */
  readonly leaseMs: number;
  /** First and longest pause between tries while the provider is full. */
  readonly retryMs?: { readonly first: number; readonly max: number };
}

export class ProviderSlots implements CallLimit {
  private readonly local: ConcurrencyLimit;
  private readonly slots: LeasedSlots;
  private readonly pool: string;

  constructor(
    redis: Redis,
    provider: ModelProvider,
    private readonly options: ProviderSlotsOptions,
  ) {
    this.local = new ConcurrencyLimit(options.limit);
    this.slots = new LeasedSlots(redis);
    this.pool = redisKeys.gatewaySlots(provider);
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.local.run(async () => {
      const member = randomUUID();
      await this.acquire(member, signal);
      try {
        return await task();
      } finally {
        await this.slots.release([this.pool], member).catch(() => {
          // The lease expires on its own; a Redis hiccup here must not fail a call that succeeded.
        });
      }
    });
  }

  /** Calls of every replica holding a slot now. */
  inUse(): Promise<number> {
    return this.slots.inUse(this.pool);
  }

  private async acquire(member: string, signal: AbortSignal | undefined): Promise<void> {
    const { first, max } = this.options.retryMs ?? { first: 5, max: 200 };
    for (let wait = first; ; wait = Math.min(max, wait * 2)) {
      signal?.throwIfAborted();
      if ((await this.slots.acquire([this.pool], [this.options.limit], member, this.options.leaseMs)) === 0) return;
      // Jitter, so replicas waiting on the same full provider do not retry in step.
      await sleep(wait / 2 + Math.random() * (wait / 2), undefined, signal ? { signal } : undefined);
    }
  }
}
