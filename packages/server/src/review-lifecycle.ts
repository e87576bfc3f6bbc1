// The one owner of a review's life: creating its record, every status change (which moves are
// allowed from which statuses), and the supersede rule. The backend, the enqueuer, the worker's
// processor, execution, reconciler and comment commands all go through it (ADR 0015).
import {
  isFinalStatus,
  type ReviewOutcome,
  type ReviewRecord,
  type ReviewRequest,
  type ReviewResult,
  type ReviewStatus,
  repoScope,
} from '@kritik/core';
import { Injectable } from '@nestjs/common';
import { type PrHead, PrHeadStore, type PrKey } from './pr-head.store.js';
import { ReviewStore, type TransitionOutcome } from './review.store.js';

/**
 * Every move a record may make, as `to` and the statuses it may come from. Final statuses
 * (posted, skipped, failed) appear in no `from`: they never change.
 */
export const REVIEW_TRANSITIONS = {
  /** A worker takes the review; running → running: a restarted worker or the reconciler adopts it. */
  start: { to: 'running', from: ['queued', 'running'] },
  /** How it ended, waiting or running. */
  end: { to: ['posted', 'skipped', 'failed'], from: ['queued', 'running'] },
  /** A newer head replaced it while it waited in the queue; a running review is left to its worker. */
  supersedeWaiting: { to: 'skipped', from: ['queued'] },
} as const satisfies Record<
  string,
  { readonly to: ReviewStatus | readonly ReviewStatus[]; readonly from: readonly ReviewStatus[] }
>;

/** How a review ends. */
export interface ReviewEnding {
  readonly status: ReviewOutcome;
  readonly reason?: string;
  readonly result?: ReviewResult;
}

/** The reason a superseded review is recorded with: the newer head, when known. */
const supersededReason = (bySha?: string) => (bySha ? `superseded by ${bySha.slice(0, 12)}` : 'superseded');

/** The review in question: its id, PR and enqueue time (the later enqueue of a PR wins). */
export type ReviewRef = Pick<ReviewRequest, 'reviewId' | 'platform' | 'repo' | 'pr' | 'headSha' | 'enqueuedAt'>;

export type Admission =
  | { readonly admitted: true }
  /** A later-enqueued review of the PR is its head: record `ending` once the PR shows it. */
  | { readonly admitted: false; readonly by: PrHead; readonly ending: ReviewEnding };

export type StartOutcome =
  | { readonly started: true; readonly record: ReviewRecord }
  /** The record had ended already (a redelivery, or a recovered entry whose review ended). */
  | { readonly started: false; readonly status: ReviewOutcome };

/**
 * The supersede rule, in one place: `head` (the PR's newest enqueued review) supersedes `review`
 * when it is another review enqueued at the same time or later.
 */
export function supersedes(head: PrHead | undefined, review: Pick<ReviewRef, 'reviewId' | 'enqueuedAt'>): boolean {
  return head !== undefined && head.reviewId !== review.reviewId && head.at >= Date.parse(review.enqueuedAt);
}

const prKeyOf = (review: Pick<ReviewRef, 'platform' | 'repo' | 'pr'>): PrKey => ({
  repo: repoScope(review.platform, review.repo),
  pr: review.pr,
});

@Injectable()
export class ReviewLifecycle {
  constructor(
    private readonly store: ReviewStore,
    private readonly heads: PrHeadStore,
  ) {}

  /**
   * Records a new review as `queued`; an existing record with its id is left as it is. Its
   * command leaves synchronously, so a caller can put it in one socket write with others.
   */
  record(review: ReviewRequest, at = new Date()): Promise<{ record: ReviewRecord; created: boolean }> {
    return this.store.create(review, at);
  }

  get(reviewId: string): Promise<ReviewRecord | undefined> {
    return this.store.get(reviewId);
  }

  /** Moves the review to `running` (recording it first if its record is gone), unless it ended. */
  async start(review: ReviewRequest): Promise<StartOutcome> {
    const { to, from } = REVIEW_TRANSITIONS.start;
    let moved = await this.store.transition(review.reviewId, to, { from });
    if (!moved.ok && moved.reason === 'missing') {
      await this.store.create(review);
      moved = await this.store.transition(review.reviewId, to, { from });
    }
    if (moved.ok) return { started: true, record: moved.record };
    if (moved.reason === 'not-allowed' && isFinalStatus(moved.record.status)) {
      return { started: false, status: moved.record.status };
    }
    // Recreated and gone again within a moment: only an expiry race does that.
    throw new Error(`review ${review.reviewId} could not be started: its record is missing`);
  }

  /**
   * Records how the review ended (recording it first if its record is gone). Refused, with the
   * record as it is, when it had ended already: the first ending stands.
   */
  async end(review: ReviewRequest, ending: ReviewEnding): Promise<TransitionOutcome> {
    const options = {
      from: REVIEW_TRANSITIONS.end.from,
      ...(ending.reason ? { reason: ending.reason } : {}),
      ...(ending.result ? { result: ending.result } : {}),
    };
    const ended = await this.store.transition(review.reviewId, ending.status, options);
    if (ended.ok || ended.reason !== 'missing') return ended;
    await this.store.create(review);
    return this.store.transition(review.reviewId, ending.status, options);
  }

  /**
   * Records a waiting review as skipped because the enqueue of `by` replaced it in the queue.
   * True when this call recorded it (false: it had started or ended meanwhile).
   */
  async supersedeWaiting(reviewId: string, by: Pick<ReviewRequest, 'headSha'>): Promise<boolean> {
    const { to, from } = REVIEW_TRANSITIONS.supersedeWaiting;
    return (await this.store.transition(reviewId, to, { from, reason: supersededReason(by.headSha) })).ok;
  }

  /**
   * Offers the review as its PR's head, as every review is when it is queued or taken: the
   * later enqueue keeps the place. Its command leaves synchronously (see record()).
   */
  offerHead(review: ReviewRef): Promise<PrHead> {
    return this.heads.offer(prKeyOf(review), {
      reviewId: review.reviewId,
      sha: review.headSha,
      at: Date.parse(review.enqueuedAt),
    });
  }

  /**
   * Offers the review as its PR's head when a worker takes it. Not admitted when a later review
   * of the PR holds the place: the caller shows that on the PR, then records `ending`.
   */
  async admit(review: ReviewRef): Promise<Admission> {
    const head = await this.offerHead(review);
    if (head.reviewId === review.reviewId) return { admitted: true };
    return { admitted: false, by: head, ending: this.supersededEnding(head) };
  }

  /** The PR's head when it supersedes `review` (a running or orphaned one), else undefined. */
  async supersededBy(review: ReviewRef): Promise<PrHead | undefined> {
    const head = await this.heads.get(prKeyOf(review));
    return head && supersedes(head, review) ? head : undefined;
  }

  /** The PR's newest enqueued review (its SHA is the head a comment command reviews). */
  head(pr: Pick<ReviewRef, 'platform' | 'repo' | 'pr'>): Promise<PrHead | undefined> {
    return this.heads.get(prKeyOf(pr));
  }

  /** How a review superseded by `by` (or by an unknown newer head) ends. */
  supersededEnding(by?: Pick<PrHead, 'sha'>): ReviewEnding {
    return { status: 'skipped', reason: supersededReason(by?.sha) };
  }
}
