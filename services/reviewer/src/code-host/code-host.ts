// The reviewer's one seam to a code host: what the engine reads from a pull request (GitLab: merge
// request) and what it posts there. GitHub and GitLab implement it; the engine never asks which.
import type { CheckRunConclusion, CheckRunOutput, RepoRef } from '@kritik/core';
import type { PatchMeta } from '../diff/diff.js';

export interface PullRequestInfo {
  number: number;
  title: string;
  body: string;
  draft: boolean;
  /** `open` while it can be reviewed; the host's own word otherwise (closed, merged...). */
  state: string;
  headSha: string;
  /** The target branch's head the diff was made against (GitHub's `base.sha`, GitLab's `diff_refs.start_sha`). */
  baseSha: string;
  /** The branch it merges into. */
  baseRef: string;
  htmlUrl: string;
  changedFiles: number;
  /** The label names it carries now: a policy's `triggers.labels` takes only labelled ones. */
  labels: string[];
}

export interface PriorReview {
  id: number;
  /** Login of the review's author; only Kritik's own reviews are trusted for markers. */
  author: string;
  body: string;
  commitId: string | null;
  htmlUrl: string;
}

export interface PriorComment {
  id: number;
  /** The first comment of its thread, for a reply; null for a thread's first comment. */
  inReplyTo: number | null;
  author: string;
  body: string;
  path: string;
  /** The line at the head (GitHub's `line`, else the line it was written on). */
  line: number | null;
}

/** One inline comment on the new side of the diff; `start_line` makes it span lines (one hunk). */
export interface ReviewCommentInput {
  path: string;
  line: number;
  side: 'RIGHT';
  start_line?: number;
  start_side?: 'RIGHT';
  body: string;
  /**
   * With `start_line`: the body to post on `line` alone when the host refuses the range, so the
   * finding is never lost; without the suggestion, which was written for the whole range.
   */
  singleLineBody?: string;
}

/** The comment on its last line alone, for a host that refused its range. */
export function singleLine(comment: ReviewCommentInput): ReviewCommentInput {
  if (comment.start_line === undefined) return comment;
  const { start_line: _start, start_side: _side, singleLineBody, ...rest } = comment;
  return { ...rest, body: singleLineBody ?? rest.body };
}

/** A pull request's changes: the whole unified diff, or per-file patches when the host gives no diff. */
export type PullChanges = { kind: 'diff'; diff: string } | { kind: 'files'; files: PatchMeta[]; notes: string[] };

/** A review to post: the inline comments, and the summary rendered once the host said which it refused. */
export interface ReviewDraft {
  commitId: string;
  comments: ReviewCommentInput[];
  /** The summary, given the indexes of the comments the host refused (they are listed in it instead). */
  body(refused: ReadonlySet<number>): string;
}

export interface PostedReview {
  id: number;
  htmlUrl: string;
  /** The summary as posted. */
  body: string;
  /** Indexes of the comments the host refused to place inline. */
  refused: ReadonlySet<number>;
}

/** The review's status on the head commit: GitHub's check run, GitLab's commit status. */
export interface CheckRef {
  id: number;
  headSha: string;
}

/** A review thread on a pull request. */
export interface ReviewThread {
  /** The host's id of the thread, what `resolveReviewThread` takes (GitHub: a GraphQL node id). */
  id: string;
  isResolved: boolean;
  /** The host's own judgement: the code the thread is on changed since it was written. */
  isOutdated: boolean;
  path: string;
  /** The id of the thread's first comment, what replies are posted to. */
  firstCommentId: number;
  /** Login of the first comment's author, a bot's in its REST form (`name[bot]` on GitHub). */
  author: string;
  body: string;
  /** Who resolved the thread (GitHub: GraphQL's login, a bot's without `[bot]`), or null. */
  resolvedBy: string | null;
  /** 👎 reactions on the thread's first comment. */
  thumbsDown: number;
}

/**
 * The conversation operations: answering in a review thread, resolving threads. A host without
 * them reviews without tidying and skips answers.
 */
export interface ConversationPort {
  listReviewThreads(repo: RepoRef, pr: number): Promise<ReviewThread[]>;
  /** Posts a reply in the thread of a review comment. */
  replyToReviewComment(repo: RepoRef, pr: number, commentId: number, body: string): Promise<void>;
  resolveReviewThread(repo: RepoRef, pr: number, threadId: string): Promise<void>;
  /** One comment of the pull request's conversation (what `@<bot> ask` wrote), or null when deleted. */
  getIssueComment(repo: RepoRef, pr: number, commentId: number): Promise<{ author: string; body: string } | null>;
  /**
   * Posts a comment in the pull request's conversation: into the discussion `discussionId` where
   * the host threads its conversation (GitLab), else (and when that discussion is gone) on its own.
   */
  commentOnPull(repo: RepoRef, pr: number, body: string, discussionId?: string): Promise<void>;
  /** Reacts to a comment (a review thread's or the conversation's), to say it was heard. */
  reactToComment(
    repo: RepoRef,
    pr: number,
    kind: 'review-comment' | 'issue-comment',
    commentId: number,
    content: 'eyes',
  ): Promise<void>;
}

export interface CodeHost {
  /** `GitHub`, `GitLab`: how the review names the host to its reader. */
  readonly name: string;
  /** Conversations on the pull request, when this host supports them. */
  readonly conversations?: ConversationPort;
  /**
   * Replaces the body of a summary Kritik posted (a GitHub review, a GitLab note); a host without
   * it gets a new summary on each push.
   */
  updateReview?(repo: RepoRef, pr: number, reviewId: number, body: string): Promise<void>;
  getPull(repo: RepoRef, pr: number): Promise<PullRequestInfo>;
  pullChanges(repo: RepoRef, pull: PullRequestInfo): Promise<PullChanges>;
  /**
   * Files changed between two commits, `ahead` when `head` descends from `base`; null when the
   * host cannot compare them.
   */
  compare(repo: RepoRef, base: string, head: string): Promise<{ status: string; files: PatchMeta[] } | null>;
  /** A file's text at a ref, or null when it does not exist there. */
  getFileText(repo: RepoRef, path: string, ref: string): Promise<string | null>;
  /** The gzipped tar of the tree at `ref` (one top directory), streamed. */
  tarball(repo: RepoRef, ref: string): Promise<AsyncIterable<Uint8Array>>;
  /** The login the token acts as when the host says so, or null (GitHub installation tokens cannot ask). */
  currentLogin(): Promise<string | null>;
  /** Summaries posted on the pull request (GitHub reviews, GitLab notes). */
  listReviews(repo: RepoRef, pr: number): Promise<PriorReview[]>;
  /** Inline comments posted on the pull request. */
  listReviewComments(repo: RepoRef, pr: number): Promise<PriorComment[]>;
  /** Posts the review; comments the host refuses go into the summary, never lost. */
  createReview(repo: RepoRef, pr: number, draft: ReviewDraft): Promise<PostedReview>;
  /** Creates the review's status in progress when no worker created one (the CLI, older payloads). */
  createCheck(repo: RepoRef, headSha: string, output: CheckRunOutput): Promise<number>;
  /** Moves the status the worker created queued to in progress. */
  startCheck(repo: RepoRef, check: CheckRef, output: CheckRunOutput): Promise<void>;
  /** Ends the status; `link` is where the reader finds the review. */
  completeCheck(
    repo: RepoRef,
    check: CheckRef,
    conclusion: CheckRunConclusion,
    output: CheckRunOutput,
    link?: string,
  ): Promise<void>;
}

/** A code host API failure with what was asked, the status and the host's message; never the token. */
export class CodeHostError extends Error {
  constructor(
    readonly host: string,
    readonly operation: string,
    readonly status: number | undefined,
    message: string,
  ) {
    super(`${host} ${operation} failed${status ? ` (${status})` : ''}: ${message}`);
    this.name = 'CodeHostError';
  }
}
