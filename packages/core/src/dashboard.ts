// The dashboard's API contract: paths and one zod schema per answer, shared by the backend that
// serves them and the single-page app that reads them (it imports `@kritik/core/dashboard`).
import { z } from 'zod';
import { BUDGET_PERIODS, BUDGET_SCOPES } from './policy/layering.js';
import { dismissalSchema, type Platform, platformSchema, reviewRecordSchema, reviewStatusSchema } from './review.js';
import { workerReplicaSchema } from './worker-status.js';

/**
 * Where each code host's sign-in starts and where it sends the browser back. GitHub's paths are
 * the first ones the dashboard had (a GitHub App's registered callback URL names them).
 */
export const SIGN_IN_PATHS: Record<Platform, { readonly login: string; readonly callback: string }> = {
  github: { login: '/api/auth/login', callback: '/api/auth/callback' },
  gitlab: { login: '/api/auth/gitlab/login', callback: '/api/auth/gitlab/callback' },
};

/** The code hosts' names as the sign-in screen shows them. */
export const SIGN_IN_LABELS: Record<Platform, string> = { github: 'GitHub', gitlab: 'GitLab' };

export type { PermissionCheck, WorkerReplica } from './worker-status.js';

/** Every dashboard route, under the backend's `/api`; the SPA owns everything else under `/`. */
export const DASHBOARD_API = {
  /** GitHub's sign-in (also answered at `/api/auth/github/login`); other hosts' in SIGN_IN_PATHS. */
  login: SIGN_IN_PATHS.github.login,
  callback: SIGN_IN_PATHS.github.callback,
  signIn: SIGN_IN_PATHS,
  /** The sign-in providers configured (unauthenticated: the sign-in screen reads it). */
  providers: '/api/auth/providers',
  logout: '/api/auth/logout',
  session: '/api/dashboard/session',
  reviews: '/api/dashboard/reviews',
  review: (id: string) => `/api/dashboard/reviews/${encodeURIComponent(id)}`,
  reviewAgain: (id: string) => `/api/dashboard/reviews/${encodeURIComponent(id)}/again`,
  events: '/api/dashboard/events',
  repositories: '/api/dashboard/repositories',
  platform: '/api/dashboard/platform',
  /** A repository's learned rules and acceptance: `?platform=&repo=` (repositoryRulesQuerySchema). */
  rules: '/api/dashboard/rules',
  /** Removes one learned rule (DELETE, same query, with the CSRF header). */
  rule: (fingerprint: string) => `/api/dashboard/rules/${encodeURIComponent(fingerprint)}`,
} as const;

/** The header carrying the session's CSRF token on state-changing requests. */
export const CSRF_HEADER = 'x-kritik-csrf';

/** The most records one page of the reviews list holds. */
export const MAX_PAGE_SIZE = 200;

const repoName = z.string().regex(/^[\w.-]+(?:\/[\w.-]+)+$/, 'must be owner/name');
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

/** Filters of the reviews list; `cursor` is the opaque `next` of the previous page. */
export const reviewFiltersSchema = z
  .object({
    repo: repoName.optional(),
    status: reviewStatusSchema.optional(),
    author: z
      .string()
      .regex(/^[\w.[\]-]{1,64}$/, 'must be a login')
      .optional(),
    /** Created on or after this day (UTC). */
    from: day.optional(),
    /** Created on or before this day (UTC). */
    to: day.optional(),
    cursor: z
      .string()
      .regex(/^\d{1,15}\.[0-9a-z]{8,40}$/, 'malformed cursor')
      .optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  })
  .strict();
export type ReviewFilters = z.infer<typeof reviewFiltersSchema>;

export const reviewPageSchema = z.object({
  reviews: z.array(reviewRecordSchema),
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  next: z.string().optional(),
});
export type ReviewPage = z.infer<typeof reviewPageSchema>;

/** The sign-in buttons: one per code host whose sign-in is configured. */
export const signInProvidersSchema = z.object({
  providers: z.array(z.object({ platform: platformSchema, label: z.string(), login: z.string() })),
});
export type SignInProviders = z.infer<typeof signInProvidersSchema>;

/** Who is signed in, what they may see, and the token their state-changing requests carry. */
export const dashboardSessionSchema = z.object({
  /** The code host the user signed in with: they see reviews of that host's repositories only. */
  platform: platformSchema,
  login: z.string(),
  admin: z.boolean(),
  csrf: z.string(),
  /**
   * Repositories (`owner/name`; GitLab: the project's full path) the user reaches: on GitHub
   * through the App's installations, on GitLab as a member with at least Reporter access.
   */
  repos: z.array(z.string()),
  expiresAt: z.string(),
  /** Where the code host's pages live: the dashboard links pull requests and files there. */
  hostUrl: z.string().url(),
});
export type DashboardSession = z.infer<typeof dashboardSessionSchema>;

/** One repository's figures for one UTC day. */
export const repositoryDaySchema = z.object({
  day,
  reviews: z.number().int().nonnegative(),
  posted: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  tokens: z.number().int().nonnegative(),
});
export type RepositoryDay = z.infer<typeof repositoryDaySchema>;

/** One budget covering a repository, as it stands in its current window. */
export const repositoryBudgetSchema = z.object({
  /** `<policy>/<scope>-per-<period>`, as the check run, the metric and the alert name it. */
  id: z.string(),
  policy: z.string(),
  scope: z.enum(BUDGET_SCOPES),
  period: z.enum(BUDGET_PERIODS),
  /** Whose spending it counts: the repository (`owner/name`) or, for an org budget, its owner. */
  subject: z.string(),
  limitUsd: z.number().positive(),
  /** Spent plus live reservations in the current window (an org budget: across the owner's repositories). */
  usedUsd: z.number().nonnegative(),
  resetsAt: z.iso.datetime(),
});
export type RepositoryBudget = z.infer<typeof repositoryBudgetSchema>;

/** The share of a budget the dashboard calls "nearly spent": the KritikBudgetNearlySpent alert's (k8s/monitoring). */
export const BUDGET_NEARLY_SPENT = 0.8;

export const repositoryStatsSchema = z.object({
  platform: platformSchema,
  repo: z.string(),
  /** Oldest first, one entry per day of the window, zeros included. */
  days: z.array(repositoryDaySchema),
  lastFailures: z.array(reviewRecordSchema),
  /**
   * Every budget a review of the repository is counted in (repository and org scope), empty when
   * none is configured; null when the budgets the worker published cannot be read.
   */
  budgets: z.array(repositoryBudgetSchema).nullable(),
});
export type RepositoryStats = z.infer<typeof repositoryStatsSchema>;

export const repositoriesSchema = z.object({ repositories: z.array(repositoryStatsSchema) });
export type Repositories = z.infer<typeof repositoriesSchema>;

export const platformStatusSchema = z.object({
  queue: z.object({
    waiting: z.number().int().nonnegative(),
    active: z.number().int().nonnegative(),
    delayed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  /** Reviews whose record is `running` (one Job or local process each). */
  running: z.array(reviewRecordSchema),
  /**
   * Workers connected to the reviews queue (BullMQ's worker list, read with CLIENT LIST); null
   * when Redis refuses that command (the ACL docs/operations.md recommends leaves it out).
   */
  workers: z
    .array(z.object({ name: z.string(), addr: z.string().optional(), idleMs: z.number().optional() }))
    .nullable(),
  /**
   * What every worker replica last published (worker-status.ts), stale ones included until their
   * key expires; newest beat first.
   */
  replicas: z.array(workerReplicaSchema),
  /**
   * Replicas whose status this backend cannot read (e.g. a worker of another version during an
   * upgrade): shown by name, never dropped silently.
   */
  unreadableReplicas: z.array(z.object({ replica: z.string(), error: z.string() })),
  /**
   * `backend`: the release's version, which every image of a release shares; `workers` and
   * `reviewerImages`: the distinct ones the replicas report. `mismatched`: a worker runs another
   * version than the backend (a rolling upgrade in progress, or one stuck).
   */
  versions: z.object({
    backend: z.string(),
    node: z.string(),
    workers: z.array(z.string()),
    reviewerImages: z.array(z.string()),
    mismatched: z.boolean(),
  }),
});
export type PlatformStatus = z.infer<typeof platformStatusSchema>;

/** One server-sent event of the reviews feed: a record that was created or changed. */
export const reviewEventSchema = z.object({ review: reviewRecordSchema });
export type ReviewEvent = z.infer<typeof reviewEventSchema>;

/** The UTC day (`YYYY-MM-DD`) of an ISO time or epoch milliseconds. */
export const utcDay = (at: string | number): string => new Date(at).toISOString().slice(0, 10);

// Learned rules (issue 16): what a repository's team taught Kritik by dismissing findings, its
// acceptance, and removing one rule. The rules are a person's words: shown as text, never markup.

/** Which repository's rules: the code host matters, a GitLab project never shares a GitHub repo's. */
export const repositoryRulesQuerySchema = z.object({ platform: platformSchema, repo: repoName }).strict();
export type RepositoryRulesQuery = z.infer<typeof repositoryRulesQuerySchema>;

/** One rule as kept: `via` tells a 👎 (reaction), `@<bot> ignore` and a thread resolved as won't fix apart. */
export const learnedRuleSchema = dismissalSchema.extend({ learnedAt: z.iso.datetime() });
export type LearnedRule = z.infer<typeof learnedRuleSchema>;

export const acceptanceSchema = z.object({
  /** Findings whose code a later push changed (their threads resolved by Kritik). */
  resolved: z.number().int().nonnegative(),
  /** Findings the team dismissed. */
  dismissed: z.number().int().nonnegative(),
  /** resolved / (resolved + dismissed), or null before any. */
  rate: z.number().min(0).max(1).nullable(),
});
export type Acceptance = z.infer<typeof acceptanceSchema>;

export const repositoryRulesSchema = z.object({
  platform: platformSchema,
  repo: z.string(),
  /** Newest first. */
  rules: z.array(learnedRuleSchema),
  acceptance: acceptanceSchema,
});
export type RepositoryRules = z.infer<typeof repositoryRulesSchema>;
