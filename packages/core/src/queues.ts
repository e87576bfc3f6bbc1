// Queue and Redis key names shared by the backend (producer) and the worker (consumer).
export const REVIEWS_QUEUE = 'reviews';

/** Reviews running at once across the worker fleet unless `scheduling.concurrency` says otherwise. */
export const DEFAULT_REVIEW_CONCURRENCY = 20;

/** Every Redis key Kritik writes starts with this prefix, so one Redis can be shared. */
export const KEY_PREFIX = 'kritik';

/**
 * BullMQ's key prefix (its own default), given to every queue and consumer: the chart's KEDA
 * trigger counts keys under it, so both read it from here.
 */
export const QUEUE_PREFIX = 'bull';

/**
 * BullMQ 6 keys of one queue that tell its depth: `wait` and `active` are lists (jobs ready to
 * run, jobs being processed); `delayed` and `prioritized` are sorted sets.
 */
export const queueKeys = (queue: string) => {
  const key = (kind: string) => `${QUEUE_PREFIX}:${queue}:${kind}`;
  return { wait: key('wait'), active: key('active'), delayed: key('delayed'), prioritized: key('prioritized') };
};

export const redisKeys = {
  /** Webhook delivery ids already accepted (dedupe of redeliveries). */
  delivery: (deliveryId: string) => `${KEY_PREFIX}:delivery:${deliveryId}`,
  /** One review record (JSON). */
  review: (reviewId: string) => `${KEY_PREFIX}:review:${reviewId}`,
  /** Sorted set of review ids by last update time, newest last. */
  reviewIndex: () => `${KEY_PREFIX}:reviews`,
  /** Sorted set of review ids of one pull request. */
  prReviews: (repo: string, pr: number) => `${KEY_PREFIX}:pr:${repo}#${pr}:reviews`,
  /** Lease held by the worker while a review of this pull request runs. */
  prLease: (repo: string, pr: number) => `${KEY_PREFIX}:pr:${repo}#${pr}:lease`,
  /** Newest head SHA seen for a pull request. */
  prHead: (repo: string, pr: number) => `${KEY_PREFIX}:pr:${repo}#${pr}:head`,
  /** Sorted set of one user's recent comment commands on a pull request (delivery ids by time). */
  prUserCommands: (repo: string, pr: number, user: string) => `${KEY_PREFIX}:pr:${repo}#${pr}:commands:${user}`,
  /** Every user's comment commands on one pull request (the per-PR limit). */
  prCommands: (repo: string, pr: number) => `${KEY_PREFIX}:pr:${repo}#${pr}:commands`,
  /** A repository's learned rules: hash of fingerprint to its rule and when it was learned. */
  repoRules: (repo: string) => `${KEY_PREFIX}:repo:${repo}:rules`,
  /** The same fingerprints by time learned (sorted set), newest kept. */
  repoRulesByTime: (repo: string) => `${KEY_PREFIX}:repo:${repo}:rules:by-time`,
  /** A repository's acceptance counts (hash: `resolved` by a later push, `dismissed` by the team). */
  repoAcceptance: (repo: string) => `${KEY_PREFIX}:repo:${repo}:acceptance`,
  /** Set while automatic reviews of a pull request are paused (`@<bot> pause`); holds who paused it. */
  prPaused: (repo: string, pr: number) => `${KEY_PREFIX}:pr:${repo}#${pr}:paused`,
  /** The model gateway's grant of one review (hash: token digest, ceilings, spend). */
  gatewayGrant: (reviewId: string) => `${KEY_PREFIX}:gateway:review:${reviewId}`,
  /** Model calls in flight to one provider across every worker replica (sorted set of leases by expiry). */
  gatewaySlots: (provider: string) => `${KEY_PREFIX}:gateway:slots:${provider}`,
  /** The review a gateway token belongs to, by the token's SHA-256. */
  gatewayToken: (digest: string) => `${KEY_PREFIX}:gateway:token:${digest}`,
  /** The budgets of the valid ReviewPolicies (JSON BudgetSnapshot), published by the worker's policy informer. */
  budgetSnapshot: () => `${KEY_PREFIX}:budgets:snapshot`,
} as const;

/** BullMQ deduplication id: one waiting review per pull request. */
export const prDedupeId = (platform: string, repo: string, pr: number) => `${platform}:${repo}#${pr}`;
