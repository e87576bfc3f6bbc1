// The platform-neutral events the intake acts on. Each platform (GitHub, GitLab) maps its webhook
// payloads to these, so policy and queueing never see a platform's wire format.
import type { Platform, RepoRef } from '@kritik/core';
import type { z } from 'zod';

export interface Actor {
  readonly login: string;
  readonly bot: boolean;
}

export interface PullRequestRef {
  readonly platform: Platform;
  readonly repo: RepoRef;
  readonly number: number;
  /** The App installation that delivered the event (GitHub); tokens are minted for it. */
  readonly installationId?: number;
}

export interface PullRequestState extends PullRequestRef {
  readonly headSha: string;
  readonly baseSha?: string;
  readonly draft: boolean;
  readonly open: boolean;
  readonly author: Actor;
}

/** Pull request changes that can start a review. */
export const PULL_REQUEST_CHANGES = ['opened', 'synchronize', 'reopened', 'ready_for_review', 'labeled'] as const;
export type PullRequestChange = (typeof PULL_REQUEST_CHANGES)[number];

export type IntakeEvent =
  | {
      readonly type: 'pull-request';
      /** A change that can start a review, or the platform's own name of another change. */
      readonly change: PullRequestChange | { readonly other: string };
      readonly pullRequest: PullRequestState;
      /** The label added, for `labeled`. */
      readonly label?: string;
      /** The labels added at once, for `labeled` (GitLab sends a change of the whole list). */
      readonly labels?: readonly string[];
      readonly sender: Actor;
    }
  | {
      readonly type: 'comment';
      readonly created: boolean;
      readonly pullRequest: PullRequestRef & { readonly open: boolean };
      readonly commentId: number;
      /** GitLab: the discussion the note belongs to (a note on its own is a discussion too). */
      readonly discussionId?: string;
      readonly body: string;
      readonly author: Actor;
      /**
       * The author may change the repository (GitHub: OWNER, MEMBER or COLLABORATOR), or `unknown`
       * when the event does not say (GitLab): the worker then asks the code host (docs/adr/0047).
       */
      readonly maintainer: boolean | 'unknown';
      /** The author's numeric id on the code host, for asking their role there. */
      readonly authorId?: number;
    }
  /** A comment in a review thread on a pull request's code (a reply, or a thread's first comment). */
  | {
      readonly type: 'review-comment';
      readonly created: boolean;
      readonly pullRequest: PullRequestRef & { readonly open: boolean; readonly headSha: string };
      readonly commentId: number;
      readonly body: string;
      readonly author: Actor;
      readonly maintainer: boolean | 'unknown';
      readonly authorId?: number;
    }
  /** Someone pressed "Re-run" on Kritik's check run (or its suite) of a pull request's head. */
  | {
      readonly type: 'rerun';
      readonly pullRequest: PullRequestRef & { readonly headSha: string; readonly baseSha?: string };
      readonly sender: Actor;
    }
  /** A re-run of a check that is not Kritik's or of a commit in no pull request. */
  | { readonly type: 'rerun-elsewhere'; readonly reason: string }
  /** A comment on an issue that is not a pull request. */
  | { readonly type: 'issue-comment' }
  | {
      readonly type: 'installation';
      readonly action: string;
      readonly account: string;
      readonly installationId?: number;
    }
  | { readonly type: 'ping' }
  | { readonly type: 'unsupported'; readonly name: string };

/** A delivery whose payload does not have the shape its event name promises. */
export class MalformedEventError extends Error {
  constructor(
    readonly event: string,
    readonly problems: readonly string[],
  ) {
    super(`${event} payload is malformed: ${problems.join('; ')}`);
    this.name = 'MalformedEventError';
  }
}

/** `payload` validated by `schema`; throws MalformedEventError naming the first bad fields. */
export function parsePayload<T extends z.ZodType>(schema: T, event: string, payload: unknown): z.output<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new MalformedEventError(
    event,
    result.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
  );
}
