// Secondary indexes of review records, next to `redisKeys.reviewIndex`/`prReviews`, so the
// reviews API and the dashboard's history can list by repository, author and status without
// scanning. Every index is scored by the record's last change, so one cursor fits them all.
import { KEY_PREFIX } from './queues.js';
import type { ReviewStatus } from './review.js';

export const reviewIndexKeys = {
  /** Sorted set of review ids of one repository (lower-cased full name), by last update time. */
  repo: (repo: string) => `${KEY_PREFIX}:repo:${repo.toLowerCase()}:reviews`,
  /** Sorted set of review ids one login (lower-cased) asked for, by last update time. */
  author: (login: string) => `${KEY_PREFIX}:author:${login.toLowerCase()}:reviews`,
  /** Which generation of these indexes the records have been written into (see ReviewStore.backfill). */
  version: () => `${KEY_PREFIX}:reviews:index-version`,
  /** Sorted set of review ids currently in one status, by last update time. */
  status: (status: ReviewStatus) => `${KEY_PREFIX}:status:${status}:reviews`,
} as const;

/** Days a record and its index entries are kept after its last change: bounds and default (ADR 0042 sizes Redis for them). */
export const REVIEW_RETENTION_DAYS = { min: 1, max: 365, default: 30 } as const;
