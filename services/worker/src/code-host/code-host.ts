// The code host as a review and a comment command reach it, one implementation per platform
// (the GitHub App, a GitLab access token): the processor, the execution and the commands ask
// CodeHosts for the review's platform and never branch on it.
import type { CheckRunConclusion, CommandJob, Platform, ReviewRequest } from '@kritik/core';

/** A pull or merge request's state and commits, as a `@<bot> review` comment needs them. */
export interface PullRequestHead {
  readonly state: 'open' | 'closed' | 'merged' | string;
  readonly draft: boolean;
  readonly headSha: string;
  readonly baseSha: string;
}

/** The reactions Kritik gives: heard (`eyes`) and done (`+1`). */
export type CommentReaction = 'eyes' | '+1';

/** A comment (GitHub) or note (GitLab) in the pull request's conversation. */
export interface PostedComment {
  readonly id: number;
  readonly url: string;
}

/** The error a code host answered with, as judgeFailure reads it: HTTP status, message, headers. */
export class CodeHostError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly response?: { headers: Record<string, string | undefined> },
  ) {
    super(message);
    this.name = 'CodeHostError';
  }
}

/** A review or command of a platform the worker has no credentials for: trying again cannot help. */
export class NotConfiguredError extends Error {
  constructor(readonly platform: Platform) {
    super(`the worker is not configured for ${platform}`);
    this.name = 'NotConfiguredError';
  }
}

/** Whether a user may change the repository, and the role the host names (for the answer). */
export interface SenderAccess {
  readonly mayChange: boolean;
  /** The host's name of the role (`Developer`, `Guest`, `not a member`). */
  readonly role: string;
}

export interface CodeHost {
  readonly platform: Platform;
  /** The review payload's `apiUrl`: where the reviewer reaches the host (CODE_HOST_ENV). */
  readonly apiUrl: string;
  /** The token the review's Job gets in its own Secret; throws when the host refuses one. */
  reviewToken(review: ReviewRequest): Promise<string>;
  /** The login Kritik posts as, whose hidden markers the reviewer trusts. */
  botLogin(): Promise<string>;
  /** Shows the review as queued on its head (check run, commit status); returns its id. */
  queueStatus(review: ReviewRequest): Promise<number>;
  /** Ends the review's status the reviewer could not end; one already ended keeps its state. */
  concludeStatus(review: ReviewRequest, conclusion: CheckRunConclusion, reason: string): Promise<void>;
  pullRequest(command: CommandJob): Promise<PullRequestHead>;
  comment(command: CommandJob, body: string): Promise<PostedComment>;
  /** Reacts to the command's comment, to say it was heard (`eyes`) or done (`+1`). */
  react(command: CommandJob, content: CommentReaction): Promise<void>;
  /** Kritik's own comment in the conversation that contains `marker`, if there is one. */
  findComment(command: CommandJob, marker: string): Promise<PostedComment | undefined>;
  /**
   * The access of the user `userId` to the command's repository, for a host whose events do not
   * carry the sender's role (GitLab); GitHub's do, so it does not implement this.
   */
  senderAccess?(command: CommandJob, userId: number): Promise<SenderAccess>;
}

/** The code hosts the worker is configured for. */
export class CodeHosts {
  private readonly hosts: ReadonlyMap<Platform, CodeHost>;

  constructor(hosts: readonly CodeHost[]) {
    this.hosts = new Map(hosts.map((h) => [h.platform, h]));
  }

  /** The platform's host; throws NotConfiguredError for a platform the worker has no credentials for. */
  of(platform: Platform): CodeHost {
    const host = this.hosts.get(platform);
    if (!host) throw new NotConfiguredError(platform);
    return host;
  }

  get platforms(): Platform[] {
    return [...this.hosts.keys()];
  }
}
