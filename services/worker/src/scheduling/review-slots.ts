// Concurrency caps shared by every worker replica: a global one and one per repository, so a
// busy repository cannot take every slot. Slots are leases (LeasedSlots), so a crashed worker's
// slots free themselves.
import { KEY_PREFIX } from '@kritik/core';
import type { Redis } from 'ioredis';
import { LeasedSlots } from './leased-slots.js';

export const slotKeys = {
  global: () => `${KEY_PREFIX}:slots:global`,
  repo: (repo: string) => `${KEY_PREFIX}:slots:repo:${repo.toLowerCase()}`,
} as const;

export interface SlotLimits {
  readonly global: number;
  readonly perRepo: number;
}

export type SlotAnswer = 'acquired' | 'global-full' | 'repo-full';

export class ReviewSlots {
  private readonly slots: LeasedSlots;

  constructor(
    redis: Redis,
    private readonly limits: SlotLimits,
  ) {
    this.slots = new LeasedSlots(redis);
  }

  async acquire(repo: string, member: string, ttlMs: number): Promise<SlotAnswer> {
    const pools = [slotKeys.global(), slotKeys.repo(repo)];
    const full = await this.slots.acquire(pools, [this.limits.global, this.limits.perRepo], member, ttlMs);
    return full === 0 ? 'acquired' : full === 1 ? 'global-full' : 'repo-full';
  }

  renew(repo: string, member: string, ttlMs: number): Promise<boolean> {
    return this.slots.renew([slotKeys.global(), slotKeys.repo(repo)], member, ttlMs);
  }

  release(repo: string, member: string): Promise<void> {
    return this.slots.release([slotKeys.global(), slotKeys.repo(repo)], member);
  }

  /** Slots in use across all replicas (expired ones excluded). */
  inUse(): Promise<number> {
    return this.slots.inUse(slotKeys.global());
  }
}
