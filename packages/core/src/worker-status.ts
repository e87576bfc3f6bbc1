// What each worker replica tells the dashboard about itself (readiness, the permission
// self-check, versions), beaten into Redis: the backend reads it and keeps no cluster access.
import { z } from 'zod';
import { KEY_PREFIX } from './queues.js';

/** A replica publishes its status this often, and at once when it changes. */
export const WORKER_STATUS_INTERVAL_MS = 15_000;
/** Beats missed before a replica shows as "not reporting since …". */
export const WORKER_STATUS_STALE_BEATS = 3;
/**
 * A replica's key outlives its last beat this long, so one that stopped without saying so stays
 * visible (stale) long enough to be noticed; a replica that shuts down cleanly removes its own.
 */
export const WORKER_STATUS_TTL_SECONDS = 30 * 60;

export const workerStatusKeys = {
  /** Sorted set of replica names by their last beat (milliseconds). */
  replicas: () => `${KEY_PREFIX}:workers`,
  /** One replica's status (JSON), expiring WORKER_STATUS_TTL_SECONDS after its last beat. */
  replica: (name: string) => `${KEY_PREFIX}:worker:${name}`,
} as const;

/** Bounds every string a replica publishes, so a bad value cannot swell the key or the page. */
const text = (max: number) => z.string().max(max);

export const permissionCheckSchema = z.object({
  /** As RBAC spells it: `create jobs.batch`, `get pods/log`. */
  permission: text(120),
  /** `unknown` until checked, or when the check itself failed. */
  state: z.enum(['granted', 'missing', 'unknown']),
});
export type PermissionCheck = z.infer<typeof permissionCheckSchema>;

export const workerStatusSchema = z.object({
  /** The pod name (hostname). */
  replica: text(253).min(1),
  version: text(64),
  /** The reviewer image as configured; `digest` when the reference pins one. */
  reviewerImage: z.object({ ref: text(512), digest: text(80).optional() }),
  runner: z.enum(['kubernetes', 'local']),
  ready: z.boolean(),
  /** Why (not) ready, one line. */
  reason: text(1000),
  /** What to do about missing permissions; absent when nothing is missing. */
  remedy: text(500).optional(),
  /** One entry per verb and resource the runner needs (none for the local runner). */
  permissions: z.array(permissionCheckSchema).max(64),
  /** Where review Jobs run; null for the local runner. */
  namespace: text(63).nullable(),
  running: z.number().int().nonnegative(),
  concurrency: z.number().int().positive(),
  startedAt: z.string().datetime(),
  lastBeat: z.string().datetime(),
});
export type WorkerStatus = z.infer<typeof workerStatusSchema>;

/** A replica as the Platform page shows it: stale once it misses WORKER_STATUS_STALE_BEATS beats. */
export const workerReplicaSchema = workerStatusSchema.extend({ stale: z.boolean() });
export type WorkerReplica = z.infer<typeof workerReplicaSchema>;

export const isStale = (status: Pick<WorkerStatus, 'lastBeat'>, now: number) =>
  now - Date.parse(status.lastBeat) > WORKER_STATUS_INTERVAL_MS * WORKER_STATUS_STALE_BEATS;

/** The digest an image reference pins (`…@sha256:<hex>`), if any. */
export function imageDigest(ref: string): string | undefined {
  return /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1];
}

/**
 * The versions the Platform page shows: the backend's, and the distinct ones reporting replicas
 * run. Mismatched when a live replica runs another version than the backend (a rolling upgrade
 * shows it until it completes; stale replicas show as such instead).
 */
export function fleetVersions(backend: string, replicas: readonly WorkerReplica[]) {
  const distinct = (values: string[]) => [...new Set(values)].sort();
  return {
    backend,
    workers: distinct(replicas.map((r) => r.version)),
    reviewerImages: distinct(replicas.map((r) => r.reviewerImage.ref)),
    mismatched: replicas.some((r) => !r.stale && r.version !== backend),
  };
}
