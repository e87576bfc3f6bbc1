// Whether a review may run now: one running review per pull request (the PR lease) within the
// global and per-repository caps (the slots), both held under one holder named after this worker
// process, renewed together and released together.
import { type ReviewRequest, repoScope } from '@kritik/core';
import type { LeaseHolder, PrLeases, PrRef } from './pr-lease.js';
import type { ReviewSlots } from './review-slots.js';

/** Why a review must wait, as the deferral metric names it. */
export type WaitWhy = 'pr_busy' | 'global_full' | 'repo_full';

export type GateAnswer =
  | { readonly entered: true; readonly holder: LeaseHolder }
  | { readonly entered: false; readonly why: WaitWhy };

export interface GateOptions {
  /** A name unique to this worker process, part of every lease it holds. */
  readonly workerId: string;
  /** How long a lease and a slot last without renewal. */
  readonly leaseTtlMs: number;
}

export const prRefOf = (review: Pick<ReviewRequest, 'platform' | 'repo' | 'pr'>): PrRef => ({
  repo: repoScope(review.platform, review.repo),
  pr: review.pr,
});

export class SchedulingGate {
  constructor(
    private readonly leases: PrLeases,
    private readonly slots: ReviewSlots,
    private readonly options: GateOptions,
  ) {}

  /**
   * Takes the PR lease and a slot for the review of queue entry `entryId`. The same entry
   * recovered from a dead worker takes its lease over instead of waiting for it to lapse.
   */
  async enter(review: ReviewRequest, entryId: string): Promise<GateAnswer> {
    const ref = prRefOf(review);
    const ttl = this.options.leaseTtlMs;
    const holder = { reviewId: review.reviewId, owner: `${this.options.workerId}:${entryId}` };
    const other = await this.leases.acquire(ref, holder, ttl);
    if (other) {
      const recovered =
        other.reviewId === review.reviewId &&
        other.owner.endsWith(`:${entryId}`) &&
        (await this.leases.takeOver(ref, other, holder, ttl));
      if (!recovered) return { entered: false, why: 'pr_busy' };
    }
    const slot = await this.slots.acquire(ref.repo, review.reviewId, ttl);
    if (slot !== 'acquired') {
      await this.leases.release(ref, holder);
      return { entered: false, why: slot === 'global-full' ? 'global_full' : 'repo_full' };
    }
    return { entered: true, holder };
  }

  /**
   * Takes the PR lease for adopting an orphaned review Job (its slot is taken as it runs); the
   * holder, or undefined while another review holds the PR.
   */
  async adopt(review: ReviewRequest): Promise<LeaseHolder | undefined> {
    const holder = { reviewId: review.reviewId, owner: `${this.options.workerId}:reconcile` };
    return (await this.leases.acquire(prRefOf(review), holder, this.options.leaseTtlMs)) ? undefined : holder;
  }

  /** Who holds the review's PR now, if anyone. */
  holderOf(review: Pick<ReviewRequest, 'platform' | 'repo' | 'pr'>): Promise<LeaseHolder | undefined> {
    return this.leases.holder(prRefOf(review));
  }

  /** Renews the lease and the slot; false when the lease was lost (another holder has the PR). */
  async renew(review: ReviewRequest, holder: LeaseHolder): Promise<boolean> {
    const ref = prRefOf(review);
    const [held] = await Promise.all([
      this.leases.renew(ref, holder, this.options.leaseTtlMs),
      this.slots.renew(ref.repo, review.reviewId, this.options.leaseTtlMs),
    ]);
    return held;
  }

  /** Lets go of the lease and the slot; never throws (both expire on their own). */
  async leave(review: ReviewRequest, holder: LeaseHolder): Promise<void> {
    const ref = prRefOf(review);
    await Promise.all([
      this.leases.release(ref, holder).catch(() => false),
      this.slots.release(ref.repo, review.reviewId).catch(() => undefined),
    ]);
  }
}
