// Secondary indexes of review records, next to `redisKeys.reviewIndex`/`prReviews`, so the
// reviews API can list by repository and by status without scanning.
import { KEY_PREFIX } from './queues.js';
import type { ReviewStatus } from './review.js';

export const reviewIndexKeys = {
  /** Sorted set of review ids of one repository (lower-cased full name), by creation time. */
  repo: (repo: string) => `${KEY_PREFIX}:repo:${repo.toLowerCase()}:reviews`,
  /** Sorted set of review ids currently in one status, by last update time. */
  status: (status: ReviewStatus) => `${KEY_PREFIX}:status:${status}:reviews`,
} as const;
