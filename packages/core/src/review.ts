// The review contracts: what the backend enqueues, what the worker hands to a review Job, what
// the reviewer reports back, and the record the API serves. One zod schema each.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { policyLayerSchema } from './policy/layering.js';

/**
 * The code hosts Kritik reviews on. On GitLab a repository is a project: `owner` is its namespace
 * path (nested groups kept, `group/sub`), `name` its path, and `pr` a merge request's iid.
 */
export const PLATFORMS = ['github', 'gitlab'] as const;
export const platformSchema = z.enum(PLATFORMS);
export type Platform = z.infer<typeof platformSchema>;

export const TRIGGERS = [
  'opened',
  'synchronize',
  'reopened',
  'ready_for_review',
  'labeled',
  'comment',
  /** `@<bot> full review`: the whole pull request again, even at a head already reviewed. */
  'full_review',
  /** GitHub's "Re-run" on Kritik's check run or its check suite. */
  'rerequested',
  /** A reply to Kritik in a review thread, or `@<bot> ask`: answered in that thread, not reviewed. */
  'answer',
  'cli',
] as const;
export const triggerSchema = z.enum(TRIGGERS);
export type Trigger = z.infer<typeof triggerSchema>;

/**
 * Reviews a person asked for (a comment command, a check run's Re-run): each is its own review (the
 * delivery is the nonce of its id), so asking again after a failed review at a head is heard.
 */
export const isCommentTrigger = (t: Trigger) =>
  t === 'comment' || t === 'full_review' || t === 'rerequested' || t === 'answer';

/** An answer is a conversation, not a review of the head: it has no check run to show or end. */
export const hasCheckRun = (t: Trigger) => t !== 'answer';

const sha = z.string().regex(/^[0-9a-f]{7,64}$/, 'must be a hex commit SHA');

export const repoRefSchema = z.object({
  owner: z.string().min(1),
  name: z.string().min(1),
});
export type RepoRef = z.infer<typeof repoRefSchema>;

export const repoFullName = (repo: RepoRef) => `${repo.owner}/${repo.name}`;

/** The inverse of repoFullName: the owner is everything before the last `/` (a GitLab group path may hold several). */
export function repoRefOf(fullName: string): RepoRef {
  const slash = fullName.lastIndexOf('/');
  return { owner: fullName.slice(0, slash), name: fullName.slice(slash + 1) };
}

/**
 * The name a pull request's shared state (its head, lease, pause, command counts) is kept under, so
 * a GitLab project and a GitHub repository with the same path (a mirror) never share it. GitHub's
 * is the bare `owner/name`, as before GitLab existed, so a running install keeps its keys.
 */
export const repoScope = (platform: Platform, repo: RepoRef): string =>
  platform === 'github' ? repoFullName(repo) : `${platform}:${repoFullName(repo)}`;

/** The longest learned rule: one line a prompt and a footer can carry. */
export const MAX_RULE_CHARS = 200;

/** A GitLab discussion id (40 hex digits today); it goes into a URL path, so nothing else passes. */
export const discussionIdSchema = z.string().regex(/^[0-9a-f]{8,64}$/);

/** The queued unit of work: one pull request at one head SHA. Holds no credentials. */
export const reviewRequestSchema = z.object({
  reviewId: z.string().regex(/^[0-9a-z]{8,40}$/),
  platform: platformSchema,
  repo: repoRefSchema,
  pr: z.number().int().positive(),
  baseSha: sha.optional(),
  headSha: sha,
  trigger: triggerSchema,
  installationId: z.number().int().positive().optional(),
  deliveryId: z.string().optional(),
  /** Who asked (comment commands) or who opened the pull request. */
  sender: z.string().optional(),
  enqueuedAt: z.string().datetime(),
  /**
   * The comment an `answer` replies to: a review comment (the answer goes into its thread) or a
   * pull request comment (`@<bot> ask`, answered in the conversation). Only with trigger `answer`.
   */
  thread: z
    .object({
      kind: z.enum(['review-comment', 'issue-comment']),
      commentId: z.number().int().positive(),
      /**
       * GitLab: the discussion the comment is a note of (the Note Hook's `discussion_id`), where
       * the answer goes; GitHub's conversation has no threads and never sets it.
       */
      discussionId: discussionIdSchema.optional(),
    })
    .optional(),
  /**
   * The review's check run, created queued by the worker when it accepted the review and kept
   * with the queue entry, so deferrals and retries reuse it; the reviewer moves it on.
   */
  checkRunId: z.number().int().positive().optional(),
});
export type ReviewRequest = z.infer<typeof reviewRequestSchema>;
/** The comment an answer replies to. */
export type AnswerThread = NonNullable<ReviewRequest['thread']>;

/**
 * What the platform lets any one review spend, whatever the repository's `.kritik.yaml` asks:
 * the operator pays for every review, a repository only chooses below these.
 */
export const reviewCeilingsSchema = z
  .object({
    maxCostUsd: z.number().positive(),
    maxInputTokens: z.number().int().positive(),
  })
  .strict();
export type ReviewCeilings = z.infer<typeof reviewCeilingsSchema>;
export const DEFAULT_REVIEW_CEILINGS: ReviewCeilings = { maxCostUsd: 5, maxInputTokens: 200_000 };

/**
 * What a review Job receives in KRITIK_REVIEW. The short-lived repository token travels
 * separately (GITHUB_TOKEN from the per-review Secret), never inside this object.
 */
export const reviewPayloadSchema = reviewRequestSchema.extend({
  apiUrl: z.string().url(),
  /** The login the App posts as: the reviewer trusts markers only in its reviews and comments. */
  botLogin: z.string().min(1).optional(),
  ceilings: reviewCeilingsSchema.optional(),
  /** The platform's answer to draft pull requests, for repositories whose config does not say. */
  reviewDrafts: z.boolean().optional(),
  /** What the matching ReviewPolicies decide; the reviewer layers the repository's `.kritik.yaml` under it. */
  policy: z.lazy(() => policyLayerSchema).optional(),
  /** What the repository's team dismissed before: never raised again, and the rules in the prompt. */
  learned: z
    .object({
      fingerprints: z.array(z.string().regex(/^[0-9a-f]{16}$/)).max(1_000),
      /** Newest first, capped. */
      rules: z.array(z.string().max(MAX_RULE_CHARS)).max(20),
    })
    .optional(),
});
export type ReviewPayload = z.infer<typeof reviewPayloadSchema>;

/**
 * The one rule for draft pull requests: the repository's `review_drafts` when it sets one, else
 * the platform's setting (KRITIK_REVIEW_DRAFTS), else no. The reviewer applies it once it has read
 * the repository's config; nothing earlier drops a draft.
 */
export const reviewsDrafts = (repository: boolean | undefined, platform: boolean | undefined): boolean =>
  repository ?? platform ?? false;

/**
 * Review ids are derived from the pull request and its head SHA, so a redelivered webhook, a
 * restarted worker or a re-run Job all name the same review (the idempotency key).
 */
export function reviewIdFor(platform: Platform, repo: RepoRef, pr: number, headSha: string, nonce = ''): string {
  return createHash('sha256')
    .update(`${platform}:${repoFullName(repo).toLowerCase()}#${pr}@${headSha}${nonce ? `/${nonce}` : ''}`)
    .digest('hex')
    .slice(0, 20);
}

export const SEVERITIES = ['critical', 'major', 'minor', 'nit'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

export const REVIEW_OUTCOMES = ['posted', 'skipped', 'failed'] as const;
export const reviewOutcomeSchema = z.enum(REVIEW_OUTCOMES);
export type ReviewOutcome = z.infer<typeof reviewOutcomeSchema>;

export const tokenUsageSchema = z.object({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  cacheRead: z.number().int().nonnegative(),
  cacheWrite: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof tokenUsageSchema>;
export const emptyUsage = (): TokenUsage => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });

/**
 * A finding a team dismissed (a 👎 on it, `@<bot> ignore [reason]` in its thread, or its thread
 * resolved by a person while its code stayed): its fingerprint, and a short rule for later prompts.
 */
export const dismissalSchema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  rule: z.string().min(1).max(MAX_RULE_CHARS),
  /** How the team said no; absent on rules learned before it was recorded. */
  via: z.enum(['reaction', 'ignore', 'resolved']).optional(),
});
export type Dismissal = z.infer<typeof dismissalSchema>;

/** Most dismissals one result reports, so the result keeps within the termination message. */
export const MAX_DISMISSALS_PER_RESULT = 10;

/** The longest title, skip reason or model name a result carries; the reviewer clips to it. */
export const MAX_DETAIL_CHARS = 300;
/** The longest file path a result carries. */
export const MAX_DETAIL_PATH_CHARS = 1_024;
const detailText = z.string().max(MAX_DETAIL_CHARS);
const detailPath = z.string().max(MAX_DETAIL_PATH_CHARS);

/** A finding as the review posted it: an inline comment at its line, or a line of the summary. */
export const postedFindingSchema = z.object({
  path: detailPath,
  line: z.number().int(),
  severity: severitySchema,
  title: detailText,
  /** True when it is (or in a dry run would be) an inline comment at that line; false when in the summary. */
  inline: z.boolean(),
});
export type PostedFinding = z.infer<typeof postedFindingSchema>;

export const skippedFileSchema = z.object({ path: detailPath, reason: detailText });
export type SkippedFile = z.infer<typeof skippedFileSchema>;

export const verificationCountsSchema = z.object({
  checked: z.number().int().nonnegative(),
  kept: z.number().int().nonnegative(),
  corrected: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
});
export type VerificationCounts = z.infer<typeof verificationCountsSchema>;

/** The compact result a reviewer reports (termination message, last stdout line). */
export const reviewResultSchema = z.object({
  status: reviewOutcomeSchema,
  reason: z.string().optional(),
  findings: z.record(severitySchema, z.number().int().nonnegative()),
  commentsPosted: z.number().int().nonnegative(),
  filesReviewed: z.number().int().nonnegative(),
  filesSkipped: z.number().int().nonnegative(),
  tokens: tokenUsageSchema,
  costUsd: z.number().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  reviewUrl: z.string().optional(),
  checkRunId: z.number().int().optional(),
  /** True when the reviewer itself concluded its check run. */
  checkConcluded: z.boolean().optional(),
  /** The primary model failed (overloaded or 5xx after retries) and the fallback answered instead. */
  fallback: z
    .object({ from: z.string().max(200), to: z.string().max(200), calls: z.number().int().positive() })
    .optional(),
  /** Kritik's earlier threads this review resolved because a push changed their code. */
  threadsResolved: z.number().int().nonnegative().optional(),
  /** Findings the team dismissed, seen by this review, for the repository's learned rules. */
  dismissed: z.array(dismissalSchema).max(MAX_DISMISSALS_PER_RESULT).optional(),
  // The detail the review page shows. All optional: results of older reviewers have none, and
  // compaction drops it (read paths first, then list entries) before it touches anything above.
  model: detailText.optional(),
  /** Model turns over all conversations (exploration and verification), when there was a checkout. */
  turns: z.number().int().nonnegative().optional(),
  toolCalls: z.number().int().nonnegative().optional(),
  /** How many files were read with read_file beyond the diff. */
  filesRead: z.number().int().nonnegative().optional(),
  /** Those files' paths, as many as fit. */
  filesReadPaths: z.array(detailPath).optional(),
  verification: verificationCountsSchema.optional(),
  /** The findings as posted, as many as fit; `findingsOmitted` counts the rest. */
  findingList: z.array(postedFindingSchema).optional(),
  findingsOmitted: z.number().int().positive().optional(),
  /** The files not reviewed and why, as many as fit; `skippedOmitted` counts the rest. */
  skippedFiles: z.array(skippedFileSchema).optional(),
  skippedOmitted: z.number().int().positive().optional(),
});
export type ReviewResult = z.infer<typeof reviewResultSchema>;

/** The termination message of a container is capped by Kubernetes at 4096 bytes. */
export const RESULT_MAX_BYTES = 4096;

export const REVIEW_STATUSES = ['queued', 'running', ...REVIEW_OUTCOMES] as const;
export const reviewStatusSchema = z.enum(REVIEW_STATUSES);
export type ReviewStatus = z.infer<typeof reviewStatusSchema>;

export const isFinalStatus = (s: ReviewStatus): s is ReviewOutcome =>
  (REVIEW_OUTCOMES as readonly string[]).includes(s);

/** What the API serves: one review with its status timeline. */
export const reviewRecordSchema = z.object({
  id: z.string(),
  platform: platformSchema,
  repo: z.string(),
  pr: z.number().int(),
  headSha: z.string(),
  trigger: triggerSchema,
  /** The request's sender: who opened the pull request or asked in a comment. */
  author: z.string().optional(),
  status: reviewStatusSchema,
  reason: z.string().optional(),
  timeline: z.array(z.object({ status: reviewStatusSchema, at: z.string(), reason: z.string().optional() })),
  result: reviewResultSchema.optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ReviewRecord = z.infer<typeof reviewRecordSchema>;
