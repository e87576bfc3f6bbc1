// Turns one verified webhook delivery into at most one queued review or command: decide, then
// claim the delivery id and record the review (one round trip), then enqueue (a second). Any
// Redis failure surfaces as "unavailable" (503), never as accepted; GitHub's redelivery of such
// a delivery finds the claim without a stored job and completes it.
import {
  COMMANDS_QUEUE,
  type CommandJob,
  isCommentTrigger,
  isFinalStatus,
  type ReviewRequest,
  repoFullName,
  reviewIdFor,
  type Trigger,
  triggerOf,
} from '@kritik/core';
import { inOneWrite, type Logger, type QueueSlot, REDIS, ReviewEnqueuer, ReviewLifecycle } from '@kritik/server';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { CommandRateLimit } from './command-rate.limit.js';
import { DELIVERY_TTL_SECONDS, DeliveryLedger } from './delivery.ledger.js';
import type { IntakeEvent, PullRequestRef } from './intake.event.js';
import { type IntakeDecision, IntakePolicy } from './intake.policy.js';
import { PauseStore } from './pause.store.js';

export interface Delivery {
  readonly id: string;
  readonly event: IntakeEvent;
}

export type IntakeResult =
  | { readonly status: 'queued'; readonly reviewId: string; readonly afterRunning?: boolean }
  | { readonly status: 'queued'; readonly command: string }
  | { readonly status: 'duplicate'; readonly accepted: string }
  | { readonly status: 'ignored'; readonly reason: string };

/** Redis (or the queue in it) failed; nothing was acknowledged. */
export class IntakeUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`storage unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'IntakeUnavailableError';
  }
}

const commandJobId = (deliveryId: string) => `delivery-${deliveryId}`;

@Injectable()
export class IntakeService {
  private readonly policy: IntakePolicy;
  private readonly commandRate: CommandRateLimit;
  private readonly pauses: PauseStore;

  constructor(
    @Inject(BACKEND_CONFIG) config: BackendConfig,
    private readonly ledger: DeliveryLedger,
    private readonly lifecycle: ReviewLifecycle,
    private readonly reviews: ReviewEnqueuer,
    @InjectQueue(COMMANDS_QUEUE) private readonly commands: Queue<CommandJob>,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    this.policy = new IntakePolicy({
      botName: config.triggers.botName,
      triggerLabel: config.triggers.label,
      reviewBots: config.triggers.reviewBots,
      allowedOrgs: config.allow.orgs,
      allowedRepos: config.allow.repos,
      allowedUsers: config.allow.users,
    });
    this.pauses = new PauseStore(redis);
    this.commandRate = new CommandRateLimit(redis, {
      limit: config.commands.perUserPerPr,
      perPrLimit: config.commands.perPr,
      windowSeconds: config.commands.windowSeconds,
    });
  }

  async handle(delivery: Delivery, log: Logger): Promise<IntakeResult> {
    const decision = this.policy.decide(delivery.event);
    if (decision.action === 'ignore') {
      log.info({ reason: decision.reason }, 'delivery ignored');
      return { status: 'ignored', reason: decision.reason };
    }
    try {
      const rated = decision.action === 'command' || decision.action === 'answer';
      const refused = rated
        ? await this.commandRate.refusal(decision.pullRequest, decision.sender, delivery.id)
        : undefined;
      if (rated && refused) {
        // No reply either: answering each refused command would be the same loop.
        const command = decision.action === 'command' ? decision.command : 'answer';
        log.warn({ sender: decision.sender, command, limit: refused }, 'comment command over the rate limit');
        return {
          status: 'ignored',
          reason:
            refused === 'user'
              ? `user ${decision.sender} gave too many commands on this pull request`
              : 'too many commands on this pull request',
        };
      }
      if (decision.action === 'review' && decision.automatic) {
        const pausedBy = await this.pauses.pausedBy(decision.pullRequest);
        if (pausedBy !== null) {
          log.info({ pausedBy }, 'automatic review paused');
          return { status: 'ignored', reason: `automatic reviews of this pull request are paused by ${pausedBy}` };
        }
      }
      // A switch is applied here, at once (idempotent on a redelivery); the worker acknowledges it.
      if (decision.action === 'command' && decision.command === 'pause')
        await this.pauses.pause(decision.pullRequest, decision.sender);
      if (decision.action === 'command' && decision.command === 'resume')
        await this.pauses.resume(decision.pullRequest);
      return await this.accept(delivery, decision, log);
    } catch (error) {
      throw error instanceof IntakeUnavailableError ? error : new IntakeUnavailableError(error);
    }
  }

  private async accept(
    delivery: Delivery,
    decision: Exclude<IntakeDecision, { action: 'ignore' }>,
    log: Logger,
  ): Promise<IntakeResult> {
    const now = new Date();
    let review: ReviewRequest | undefined;
    if (decision.action === 'review') {
      const pr = decision.pullRequest;
      let nonce: string | undefined;
      if (decision.addedLabels) {
        // Only a head whose review was skipped (perhaps for want of this label) or never ran is
        // looked at again; a queued review reads the labels when it runs.
        const first = await this.lifecycle.get(reviewIdFor(pr.platform, pr.repo, pr.number, pr.headSha));
        if (first && first.status !== 'skipped') {
          const why = isFinalStatus(first.status)
            ? `already reviewed (${first.status})`
            : `${first.status}: its review reads the labels`;
          log.info({ reviewId: first.id, status: first.status }, 'label added to a head with a review');
          return { status: 'ignored', reason: `${pr.headSha.slice(0, 12)} ${why}` };
        }
        nonce = `labels:${[...decision.addedLabels].sort().join(',')}`;
      }
      review = this.reviewRequest(
        pr,
        pr.headSha,
        pr.baseSha,
        decision.trigger,
        decision.sender,
        delivery.id,
        now,
        nonce,
      );
    } else if (decision.action === 'answer') {
      // A thread names its head; `ask` takes the newest seen on a pull_request event.
      const headSha =
        decision.headSha ??
        (
          await this.lifecycle.head({
            platform: decision.pullRequest.platform,
            repo: decision.pullRequest.repo,
            pr: decision.pullRequest.number,
          })
        )?.sha;
      if (!headSha) {
        log.info({ thread: decision.thread }, 'question before any head is known');
        return { status: 'ignored', reason: 'no head of this pull request is known yet; ask again after a push' };
      }
      review = {
        ...this.reviewRequest(decision.pullRequest, headSha, undefined, 'answer', decision.sender, delivery.id, now),
        thread: decision.thread,
      };
    } else if (
      (decision.command === 'review' || decision.command === 'full-review') &&
      // A sender whose role is still to be read goes through the worker, which asks the code host.
      !decision.senderRoleUnknown
    ) {
      // The comment does not name the head; the newest one seen on a pull_request event does.
      // Without one, the worker (which can ask GitHub) resolves it.
      const head = await this.lifecycle.head({
        platform: decision.pullRequest.platform,
        repo: decision.pullRequest.repo,
        pr: decision.pullRequest.number,
      });
      if (head)
        review = this.reviewRequest(
          decision.pullRequest,
          head.sha,
          undefined,
          triggerOf(decision.command),
          decision.sender,
          delivery.id,
          now,
        );
    }

    const accepted = review ? review.reviewId : `command:${decision.action === 'command' ? decision.command : ''}`;
    // Claiming the delivery, recording the review (idempotent: the same id on a redelivery) and
    // reading the PR's queue slot are independent: one round trip to Redis, two commands (the
    // claim reads the slot).
    const [claiming, creating] = await Promise.allSettled(
      inOneWrite(this.redis, () => [
        review
          ? this.ledger.claimAndRead(delivery.id, accepted, this.reviews.slotReads(review))
          : this.ledger.claim(delivery.id, accepted).then((previous) => ({ previous, value: null, field: null })),
        review ? this.lifecycle.record(review, now) : undefined,
      ]),
    );
    if (claiming.status === 'rejected') throw claiming.reason;
    if (creating.status === 'rejected') throw creating.reason;
    const created = creating.value;
    const previous = claiming.value.previous;
    const slot: QueueSlot = { holder: claiming.value.value, next: claiming.value.field };

    if (previous !== undefined) {
      const stored = review
        ? created?.record.status !== 'queued' || (await this.reviews.exists(review.reviewId))
        : (await this.commands.getJobState(commandJobId(delivery.id))) !== 'unknown';
      if (stored) {
        log.info({ accepted: previous }, 'redelivery of an accepted delivery');
        return { status: 'duplicate', accepted: previous };
      }
      // Claimed before but never stored (Redis failed in between): this redelivery completes it.
      log.warn({ accepted: previous }, 'redelivery of a delivery that was not stored; storing it now');
    }

    if (review && created) {
      // One line per delivery on this path, tagged with the review id (no child logger per
      // review: it costs as much as the line).
      const reviewId = review.reviewId;
      if (!created.created && isFinalStatus(created.record.status)) {
        log.info({ reviewId, status: created.record.status }, 'head already reviewed');
        return {
          status: 'ignored',
          reason: `${review.headSha.slice(0, 12)} already reviewed (${created.record.status})`,
        };
      }
      // The second round trip: the add and the PR head offer leave in one write.
      const outcome = await this.reviews.enqueue(review, log, {
        slot,
        alongside: isCommentTrigger(review.trigger) ? undefined : () => this.lifecycle.offerHead(review),
      });
      log.info({ reviewId, trigger: review.trigger, headSha: review.headSha, queue: outcome.status }, 'review queued');
      return {
        status: 'queued',
        reviewId: review.reviewId,
        ...(outcome.status === 'after-running' ? { afterRunning: true } : {}),
      };
    }
    if (decision.action !== 'command') throw new Error('unreachable: a decision without a review or command');
    const job: CommandJob = {
      command: decision.command,
      platform: decision.pullRequest.platform,
      repo: decision.pullRequest.repo,
      pr: decision.pullRequest.number,
      ...(decision.pullRequest.installationId ? { installationId: decision.pullRequest.installationId } : {}),
      commentId: decision.commentId,
      sender: decision.sender,
      ...(decision.senderRoleUnknown ? { senderRoleUnknown: decision.senderRoleUnknown } : {}),
      deliveryId: delivery.id,
      enqueuedAt: now.toISOString(),
    };
    // The delivery id as job id, kept as long as the delivery is remembered: one answer per
    // comment even when this add is retried.
    await this.commands.add(decision.command, job, {
      jobId: commandJobId(delivery.id),
      removeOnComplete: { age: DELIVERY_TTL_SECONDS },
      removeOnFail: { age: DELIVERY_TTL_SECONDS },
    });
    log.info({ command: decision.command, pr: job.pr, repo: repoFullName(job.repo) }, 'command queued');
    return { status: 'queued', command: decision.command };
  }

  private reviewRequest(
    pr: PullRequestRef,
    headSha: string,
    baseSha: string | undefined,
    trigger: Trigger,
    sender: string,
    deliveryId: string,
    now: Date,
    /** What sets a review apart from the head's first: by default a comment's delivery (a fresh review asked for). */
    nonce = isCommentTrigger(trigger) ? deliveryId : '',
  ): ReviewRequest {
    return {
      reviewId: reviewIdFor(pr.platform, pr.repo, pr.number, headSha, nonce),
      platform: pr.platform,
      repo: pr.repo,
      pr: pr.number,
      ...(baseSha ? { baseSha } : {}),
      headSha,
      trigger,
      ...(pr.installationId ? { installationId: pr.installationId } : {}),
      deliveryId,
      sender,
      enqueuedAt: now.toISOString(),
    };
  }
}
