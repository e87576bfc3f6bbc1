// What each comment command does on the code host and in the queue: every one is acknowledged with a
// reaction; `help` posts the help text in the pull request's conversation (a GitLab merge request note); `review` reads the pull
// request's current head and queues a fresh review of it, as the backend does for a comment when it
// already knows the head (ADR 0006); `pause` / `resume` were applied by the backend (ADR 0028).
import {
  type CommandJob,
  helpReply,
  isFinalStatus,
  isSwitchCommand,
  type ReviewRequest,
  reviewIdFor,
  triggerOf,
} from '@kritik/core';
import { type Logger, ReviewEnqueuer, ReviewLifecycle } from '@kritik/server';
import { Inject, Injectable } from '@nestjs/common';
import { CodeHosts } from '../code-host/code-host.js';
import type { WorkerConfig } from '../config/worker.config.js';
import { WORKER_CONFIG } from '../scheduling/tokens.js';
import { CommandFailure } from './command-failure.js';

export type CommandEnd =
  | { readonly outcome: 'replied'; readonly commentUrl: string }
  /** A switch (`pause`, `resume`) the backend already applied, acknowledged with a reaction. */
  | { readonly outcome: 'acknowledged' }
  | { readonly outcome: 'queued'; readonly reviewId: string; readonly headSha: string; readonly afterRunning?: true }
  /** Done by an earlier try (the comment exists, or the review was recorded and ended). */
  | { readonly outcome: 'duplicate'; readonly reviewId?: string; readonly commentUrl?: string };

export interface CommandContext {
  /** Unique per comment (its webhook delivery id): the idempotency key of the answer. */
  readonly nonce: string;
  /** An earlier try of this command may have acted before it stopped. */
  readonly retried: boolean;
  readonly log: Logger;
}

/** The hidden line that marks a help reply as the answer to one comment. */
export const helpMarker = (nonce: string) => `<!-- kritik:help ${nonce.replace(/-->/g, '')} -->`;

@Injectable()
export class CommandService {
  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly hosts: CodeHosts,
    private readonly lifecycle: ReviewLifecycle,
    private readonly reviews: ReviewEnqueuer,
  ) {}

  /**
   * Tells the commenter at once that the command was heard: `eyes` on a command still to be
   * answered, `+1` on a switch, which is its whole answer.
   */
  async acknowledge(command: CommandJob, context: CommandContext): Promise<void> {
    const content = isSwitchCommand(command.command) ? '+1' : 'eyes';
    try {
      await this.hosts.of(command.platform).react(command, content);
    } catch (err) {
      // The command itself still runs: a missing reaction is noise, a missing answer would be a loss.
      context.log.warn({ err }, 'could not react to the command');
    }
  }

  async help(command: CommandJob, context: CommandContext): Promise<CommandEnd> {
    const marker = helpMarker(context.nonce);
    if (context.retried) {
      // The earlier try may have posted before it failed or its worker died.
      const posted = await this.hosts.of(command.platform).findComment(command, marker);
      if (posted) return { outcome: 'duplicate', commentUrl: posted.url };
    }
    const body = `${helpReply(this.config.triggers.botName, this.config.triggers.label)}\n\n${marker}`;
    const comment = await this.hosts.of(command.platform).comment(command, body);
    return { outcome: 'replied', commentUrl: comment.url };
  }

  async review(command: CommandJob, context: CommandContext): Promise<CommandEnd> {
    const pull = await this.hosts.of(command.platform).pullRequest(command);
    if (pull.state !== 'open') {
      throw new CommandFailure('closed', `pull request #${command.pr} is ${pull.state}; nothing to review`);
    }
    const review: ReviewRequest = {
      // The comment's delivery as nonce: a fresh review even of a reviewed head, the same one on a retry.
      reviewId: reviewIdFor(command.platform, command.repo, command.pr, pull.headSha, context.nonce),
      platform: command.platform,
      repo: command.repo,
      pr: command.pr,
      baseSha: pull.baseSha,
      headSha: pull.headSha,
      trigger: triggerOf(command.command),
      ...(command.installationId ? { installationId: command.installationId } : {}),
      ...(command.deliveryId ? { deliveryId: command.deliveryId } : {}),
      ...(command.sender ? { sender: command.sender } : {}),
      enqueuedAt: new Date().toISOString(),
    };
    const { record, created } = await this.lifecycle.record(review);
    if (!created && isFinalStatus(record.status)) return { outcome: 'duplicate', reviewId: review.reviewId };
    const queued = await this.reviews.enqueue(review, context.log);
    return {
      outcome: 'queued',
      reviewId: review.reviewId,
      headSha: review.headSha,
      ...(queued.status === 'after-running' ? { afterRunning: true as const } : {}),
    };
  }
}
