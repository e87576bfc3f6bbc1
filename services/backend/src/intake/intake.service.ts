// Turns one verified webhook delivery into at most one queued review or command: decide, claim
// the delivery id, record the review, enqueue, then mark the delivery accepted. Any Redis
// failure on the way gives the claim back and surfaces as "unavailable", never as accepted.
import {
  COMMANDS_QUEUE,
  type CommandJob,
  isFinalStatus,
  type ReviewJob,
  repoFullName,
  reviewIdFor,
  type Trigger,
} from '@kritik/core';
import { type Logger, PrHeadStore, ReviewStore } from '@kritik/server';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { DeliveryLedger } from './delivery.ledger.js';
import type { IntakeEvent, PullRequestRef } from './intake.event.js';
import { type IntakeDecision, IntakePolicy } from './intake.policy.js';
import { ReviewEnqueuer } from './review.enqueuer.js';

export interface Delivery {
  readonly id: string;
  readonly event: IntakeEvent;
}

export type IntakeResult =
  | { readonly status: 'queued'; readonly reviewId: string; readonly afterRunning?: boolean }
  | { readonly status: 'queued'; readonly command: string }
  | { readonly status: 'duplicate'; readonly accepted: string }
  | { readonly status: 'in-progress' }
  | { readonly status: 'ignored'; readonly reason: string };

/** Redis (or the queue in it) failed; nothing was acknowledged. */
export class IntakeUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`storage unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'IntakeUnavailableError';
  }
}

@Injectable()
export class IntakeService {
  private readonly policy: IntakePolicy;

  constructor(
    @Inject(BACKEND_CONFIG) config: BackendConfig,
    private readonly ledger: DeliveryLedger,
    private readonly store: ReviewStore,
    private readonly heads: PrHeadStore,
    private readonly reviews: ReviewEnqueuer,
    @InjectQueue(COMMANDS_QUEUE) private readonly commands: Queue<CommandJob>,
  ) {
    this.policy = new IntakePolicy({
      botName: config.github.botName,
      triggerLabel: config.triggers.label,
      reviewDrafts: config.triggers.reviewDrafts,
      reviewBots: config.triggers.reviewBots,
      allowedOrgs: config.allow.orgs,
      allowedRepos: config.allow.repos,
      allowedUsers: config.allow.users,
    });
  }

  async handle(delivery: Delivery, log: Logger): Promise<IntakeResult> {
    const decision = this.policy.decide(delivery.event);
    if (decision.action === 'ignore') {
      log.info({ reason: decision.reason }, 'delivery ignored');
      return { status: 'ignored', reason: decision.reason };
    }
    try {
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
    let review: ReviewJob | undefined;
    if (decision.action === 'review') {
      const pr = decision.pullRequest;
      review = this.reviewJob(pr, pr.headSha, pr.baseSha, decision.trigger, decision.sender, delivery.id, now);
    } else if (decision.command === 'review') {
      // The comment does not name the head; the newest one seen on a pull_request event does.
      // Without one, the worker (which can ask GitHub) resolves it.
      const head = await this.heads.get({
        repo: repoFullName(decision.pullRequest.repo),
        pr: decision.pullRequest.number,
      });
      if (head)
        review = this.reviewJob(
          decision.pullRequest,
          head.sha,
          undefined,
          'comment',
          decision.sender,
          delivery.id,
          now,
        );
    }

    // Claiming the delivery, recording the review (idempotent: same id on a redelivery) and
    // reading the PR's queue slot are independent: one round trip to Redis.
    const [claimed, creating, peeking] = await Promise.allSettled([
      this.ledger.claim(delivery.id),
      review ? this.store.create(review, now) : undefined,
      review ? this.reviews.peek(review) : undefined,
    ]);
    if (claimed.status === 'rejected') throw claimed.reason;
    const claim = claimed.value;
    if (claim.status === 'accepted') {
      log.info({ accepted: claim.result }, 'redelivery of an accepted delivery');
      return { status: 'duplicate', accepted: claim.result };
    }
    if (claim.status === 'pending') return { status: 'in-progress' };

    try {
      if (creating.status === 'rejected') throw creating.reason;
      if (peeking.status === 'rejected') throw peeking.reason;
      const created = creating.value;
      const slot = peeking.value;
      if (review && created) {
        const reviewLog = log.child({ reviewId: review.reviewId });
        const { record } = created;
        if (!created.created && isFinalStatus(record.status)) {
          await this.ledger.accept(delivery.id, review.reviewId);
          reviewLog.info({ status: record.status }, 'head already reviewed');
          return { status: 'ignored', reason: `${review.headSha.slice(0, 12)} already reviewed (${record.status})` };
        }
        const outcome = await this.reviews.enqueue(review, reviewLog, slot);
        await Promise.all([
          review.trigger === 'comment'
            ? undefined
            : this.heads.offer(
                { repo: repoFullName(review.repo), pr: review.pr },
                { reviewId: review.reviewId, sha: review.headSha, at: now.getTime() },
              ),
          this.ledger.accept(delivery.id, review.reviewId),
        ]);
        reviewLog.info({ trigger: review.trigger, headSha: review.headSha, queue: outcome.status }, 'review queued');
        return {
          status: 'queued',
          reviewId: review.reviewId,
          ...(outcome.status === 'after-running' ? { afterRunning: true } : {}),
        };
      }
      const command = decision.action === 'command' ? decision : undefined;
      if (!command) throw new Error('unreachable: a decision without a review or command');
      const job: CommandJob = {
        command: command.command,
        platform: command.pullRequest.platform,
        repo: command.pullRequest.repo,
        pr: command.pullRequest.number,
        ...(command.pullRequest.installationId ? { installationId: command.pullRequest.installationId } : {}),
        commentId: command.commentId,
        sender: command.sender,
        deliveryId: delivery.id,
        enqueuedAt: now.toISOString(),
      };
      // The delivery id as job id: one answer per comment even if this add is retried.
      await this.commands.add(command.command, job, {
        jobId: `delivery-${delivery.id}`,
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      await this.ledger.accept(delivery.id, `command:${command.command}`);
      log.info({ command: command.command, pr: job.pr, repo: repoFullName(job.repo) }, 'command queued');
      return { status: 'queued', command: command.command };
    } catch (error) {
      await this.ledger.release(delivery.id).catch(() => undefined);
      throw new IntakeUnavailableError(error);
    }
  }

  private reviewJob(
    pr: PullRequestRef,
    headSha: string,
    baseSha: string | undefined,
    trigger: Trigger,
    sender: string,
    deliveryId: string,
    now: Date,
  ): ReviewJob {
    return {
      // A comment asks for a fresh review even of an already reviewed head.
      reviewId: reviewIdFor(pr.platform, pr.repo, pr.number, headSha, trigger === 'comment' ? deliveryId : ''),
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
