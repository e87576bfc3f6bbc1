// Puts reviews on the `reviews` queue, coalesced per pull request with BullMQ deduplication, for
// every producer (the backend for webhooks, the worker for `@<bot> review` comments): a review
// waits `debounceMs` (delayed) and a newer head SHA replaces it; while a review of the PR runs,
// the newest one is kept to start after it (keepLastIfActive). Reviews that lose their place are
// recorded as skipped through the lifecycle, so none stays `queued` forever. Its Redis writes are batched: a caller's
// writes can leave in the same socket write as the add (`alongside`), the slot's reads in one.
import { prDedupeId, type ReviewRequest, repoFullName } from '@kritik/core';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { inOneWrite } from './redis.js';
import type { ReviewLifecycle } from './review-lifecycle.js';

/** Name of review jobs on the queue. */
export const REVIEW_JOB_NAME = 'review';

/** The PR's job that holds its deduplication slot (waiting or running), and the one kept to run after it. */
export interface QueueSlot {
  readonly holder: string | null;
  readonly next: string | null;
}

/** Where a queue slot is read: `key` holds the holder, `hash`'s `field` the next. */
export interface QueueSlotReads {
  readonly key: string;
  readonly hash: string;
  readonly field: string;
}

export type EnqueueOutcome =
  /** Waiting (delayed by the debounce), possibly replacing an older waiting review. */
  | { readonly status: 'queued'; readonly superseded?: string }
  /** A review of this PR is running; this one starts when it ends. */
  | { readonly status: 'after-running'; readonly running: string; readonly superseded?: string };

export interface ReviewAddOptions {
  readonly jobId: string;
  readonly delay: number;
  readonly deduplication: { readonly id: string; readonly replace: boolean; readonly keepLastIfActive: boolean };
  readonly removeOnComplete: { readonly age: number; readonly count: number };
  readonly removeOnFail: { readonly age: number };
}

/** What the enqueuer uses of a BullMQ `Queue<ReviewRequest>` (the package itself stays out of this one). */
export interface ReviewQueue {
  readonly qualifiedName: string;
  add(name: string, data: ReviewRequest, opts: ReviewAddOptions): Promise<{ id?: string | undefined }>;
  getJobState(jobId: string): Promise<string>;
  remove(jobId: string): Promise<number>;
}

export interface EnqueueOptions {
  /** A peek() made just before (read in the same round trip as other work), saving one. */
  readonly slot?: QueueSlot;
  /**
   * Independent work on the same Redis connection (the PR head offer): its commands leave in the
   * same socket write as the add, and enqueue() settles when both have. A system call per
   * command is the main cost of a round trip under load.
   */
  readonly alongside?: () => PromiseLike<unknown>;
}

export interface ReviewEnqueuerOptions {
  /** A review waits this long for newer pushes to the same pull request, which replace it. */
  readonly debounceMs: number;
}

export class ReviewEnqueuer {
  constructor(
    private readonly queue: ReviewQueue,
    private readonly lifecycle: ReviewLifecycle,
    private readonly redis: Redis,
    private readonly options: ReviewEnqueuerOptions,
  ) {}

  static dedupeId(
    job: Pick<ReviewRequest, 'platform' | 'repo' | 'pr'> & Partial<Pick<ReviewRequest, 'trigger' | 'reviewId'>>,
  ) {
    const pr = prDedupeId(job.platform, repoFullName(job.repo).toLowerCase(), job.pr);
    // An answer never coalesces with the PR's reviews: neither may replace the other.
    return job.trigger === 'answer' ? `${pr}:answer:${job.reviewId}` : pr;
  }

  /** The PR's queue slot. Key names follow BullMQ 6's deduplication: `<queue>:de:<id>` and `<queue>:dn:<id>`. */
  async peek(job: ReviewRequest): Promise<QueueSlot> {
    const slot = this.slotReads(job);
    const [holder, next] = await inOneWrite(this.redis, () =>
      Promise.all([this.redis.get(slot.key), this.redis.hget(slot.hash, slot.field)]),
    );
    return { holder, next };
  }

  /** Where peek() reads, for a caller that reads it along with other work. */
  slotReads(job: ReviewRequest): QueueSlotReads {
    const dedupeId = ReviewEnqueuer.dedupeId(job);
    return {
      key: `${this.queue.qualifiedName}:de:${dedupeId}`,
      hash: `${this.queue.qualifiedName}:dn:${dedupeId}`,
      field: 'jid',
    };
  }

  /** True when the review's job is on the queue (any state), or kept to run after the PR's running one. */
  async exists(reviewId: string): Promise<boolean> {
    return (await this.queue.getJobState(reviewId)) !== 'unknown';
  }

  /** Queues `job` (and runs `alongside` with its writes in the same socket write as the add). */
  async enqueue(job: ReviewRequest, log: Logger, options: EnqueueOptions = {}): Promise<EnqueueOutcome> {
    if (!options.alongside) return this.place(job, log, options.slot);
    holdWritesThisTurn(this.redis);
    const [outcome] = await Promise.all([this.place(job, log, options.slot), options.alongside()]);
    return outcome;
  }

  private async place(job: ReviewRequest, log: Logger, slot: QueueSlot | undefined): Promise<EnqueueOutcome> {
    const dedupeId = ReviewEnqueuer.dedupeId(job);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { holder, next } = attempt === 1 && slot ? slot : await this.peek(job);
      const added = await this.queue.add(REVIEW_JOB_NAME, job, {
        jobId: job.reviewId,
        delay: this.options.debounceMs,
        deduplication: { id: dedupeId, replace: true, keepLastIfActive: true },
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      if (added.id === job.reviewId) {
        // Ours holds the PR's slot now. A different holder seen just before was either delayed
        // and replaced by `replace`, or finished meanwhile (then its record is no longer
        // queued and the compare-and-set below leaves it alone).
        const superseded = holder && holder !== job.reviewId ? holder : undefined;
        if (superseded) await this.supersede(superseded, job, log);
        return superseded ? { status: 'queued', superseded } : { status: 'queued' };
      }
      const current = added.id!;
      const state = await this.queue.getJobState(current);
      if (state === 'active') {
        // BullMQ kept ours as the PR's next job, in place of the one kept before (if any).
        const superseded = next && next !== job.reviewId ? next : undefined;
        if (superseded) await this.supersede(superseded, job, log);
        return superseded
          ? { status: 'after-running', running: current, superseded }
          : { status: 'after-running', running: current };
      }
      if (state === 'waiting' || state === 'prioritized' || state === 'waiting-children') {
        // Past its debounce the older review waits for a worker and `replace` no longer
        // applies: remove it ourselves (fails harmlessly if a worker just took it) and retry.
        if ((await this.queue.remove(current)) === 1) await this.supersede(current, job, log);
        continue;
      }
      log.warn(
        { reviewId: job.reviewId, holder: current, state, attempt },
        'deduplication key points at a job that is gone; retrying',
      );
    }
    throw new Error(`review ${job.reviewId} could not be queued for ${dedupeId}`);
  }

  private async supersede(reviewId: string, by: ReviewRequest, log: Logger) {
    if (await this.lifecycle.supersedeWaiting(reviewId, by))
      log.info({ reviewId: by.reviewId, superseded: reviewId }, 'waiting review superseded by a newer head');
  }
}

/**
 * Commands issued on `redis` from now until this turn of the event loop ends leave in one write.
 * BullMQ sends its add only after a few awaits, so corking around the call (inOneWrite) cannot
 * put it in the same write as commands issued next to it; corked until setImmediate, it is.
 */
function holdWritesThisTurn(redis: Redis): void {
  const stream = redis.status === 'ready' ? redis.stream : undefined;
  if (!stream) return;
  stream.cork();
  setImmediate(() => stream.uncork());
}
