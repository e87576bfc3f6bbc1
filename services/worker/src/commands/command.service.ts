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
  /** Refused (a full review by a sender who may not change the repository), said in the conversation. */
  | { readonly outcome: 'refused'; readonly commentUrl: string; readonly reason: string }
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

/** The hidden line that marks a reply (help, refusal) as the answer to one comment. */
const replyMarker = (kind: 'help' | 'refused', nonce: string) => `<!-- kritik:${kind} ${nonce.replace(/-->/g, '')} -->`;
export const helpMarker = (nonce: string) => replyMarker('help', nonce);

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
    const reply = await this.replyOnce(
      command,
      context,
      'help',
      helpReply(this.config.triggers.botName, this.config.triggers.label),
    );
    return 'duplicate' in reply ? reply.duplicate : { outcome: 'replied', commentUrl: reply.url };
  }

  /**
   * Why the sender may not ask for this command, when their role was not in the event (GitLab's
   * Note Hook) and the code host says they may not change the repository, or cannot say.
   * The rule (maintainers and the allow-list; docs/adr/0023) stays the backend's intake policy:
   * only the fact it could not read is read here.
   */
  async refusal(command: CommandJob, context: CommandContext): Promise<string | undefined> {
    if (command.command !== 'full-review' || !command.senderRoleUnknown) return undefined;
    const host = this.hosts.of(command.platform);
    const who = command.sender ?? `user ${command.senderRoleUnknown.userId}`;
    if (!host.senderAccess) return `the role of ${who} on ${command.platform} cannot be read`;
    try {
      const access = await host.senderAccess(command, command.senderRoleUnknown.userId);
      if (access.mayChange) return undefined;
      return `a full review is for those who may push to the repository (Developer or above); ${who} is ${access.role}`;
    } catch (err) {
      context.log.warn({ err }, 'could not read the sender access');
      return `the access of ${who} could not be read from ${command.platform} (${err instanceof Error ? err.message.slice(0, 200) : 'error'}); ask again later`;
    }
  }

  /** Answers a refused command in its conversation, once per comment. */
  async refuse(command: CommandJob, reason: string, context: CommandContext): Promise<CommandEnd> {
    const reply = await this.replyOnce(command, context, 'refused', `Not reviewed: ${reason}.`);
    return 'duplicate' in reply ? reply.duplicate : { outcome: 'refused', commentUrl: reply.url, reason };
  }

  /** Posts `text` as the answer to the command's comment, unless an earlier try already did. */
  private async replyOnce(
    command: CommandJob,
    context: CommandContext,
    kind: 'help' | 'refused',
    text: string,
  ): Promise<{ url: string } | { duplicate: CommandEnd }> {
    const marker = replyMarker(kind, context.nonce);
    const host = this.hosts.of(command.platform);
    if (context.retried) {
      // The earlier try may have posted before it failed or its worker died.
      const posted = await host.findComment(command, marker);
      if (posted) return { duplicate: { outcome: 'duplicate', commentUrl: posted.url } };
    }
    return host.comment(command, `${text}\n\n${marker}`);
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
