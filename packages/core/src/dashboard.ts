// The dashboard's API contract: paths and one zod schema per answer, shared by the backend that
// serves them and the single-page app that reads them (it imports `@kritik/core/dashboard`).
import { z } from 'zod';
import { reviewRecordSchema, reviewStatusSchema } from './review.js';
import { workerReplicaSchema } from './worker-status.js';

export type { PermissionCheck, WorkerReplica } from './worker-status.js';

/** Every dashboard route, under the backend's `/api`; the SPA owns everything else under `/`. */
export const DASHBOARD_API = {
  login: '/api/auth/login',
  callback: '/api/auth/callback',
  logout: '/api/auth/logout',
  session: '/api/dashboard/session',
  reviews: '/api/dashboard/reviews',
  review: (id: string) => `/api/dashboard/reviews/${encodeURIComponent(id)}`,
  reviewAgain: (id: string) => `/api/dashboard/reviews/${encodeURIComponent(id)}/again`,
  events: '/api/dashboard/events',
  repositories: '/api/dashboard/repositories',
  platform: '/api/dashboard/platform',
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

/** Who is signed in, what they may see, and the token their state-changing requests carry. */
export const dashboardSessionSchema = z.object({
  login: z.string(),
  admin: z.boolean(),
  csrf: z.string(),
  /** Repositories (`owner/name`) the user reaches through the App's installations. */
  repos: z.array(z.string()),
  expiresAt: z.string(),
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

export const repositoryStatsSchema = z.object({
  repo: z.string(),
  /** Oldest first, one entry per day of the window, zeros included. */
  days: z.array(repositoryDaySchema),
  lastFailures: z.array(reviewRecordSchema),
  /**
   * Budget used this period, when a budget API exists; null until then (the dashboard shows
   * "no budget configured", never a made-up figure).
   */
  budget: z.object({ usedUsd: z.number().nonnegative(), limitUsd: z.number().positive() }).nullable(),
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
