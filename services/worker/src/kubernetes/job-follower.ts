// Follows one Job until it finishes, with a watch that resumes from the last resourceVersion
// after a dropped connection (and re-reads the Job when that version is too old), a slow
// periodic re-read as a safety net, a hard deadline, and an abort signal.
import { backoffDelay } from '@kritik/core';
import type { V1Job } from '@kubernetes/client-node';
import type { KubernetesClient } from './kubernetes.client.js';
import { KubernetesForbiddenError, KubernetesNotFoundError, statusOf } from './kubernetes.errors.js';

export type JobEnd =
  | { readonly kind: 'complete'; readonly job: V1Job }
  | { readonly kind: 'failed'; readonly job: V1Job; readonly reason?: string; readonly message?: string }
  | { readonly kind: 'deleted' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' };

export interface FollowOptions {
  /** Give up at this time (ms since epoch). */
  readonly deadlineAt: number;
  readonly signal?: AbortSignal;
  /** Delay before re-opening a dropped watch (default 250 ms, doubling to 5 s). */
  readonly retryDelayMs?: number;
  /** Re-read the Job this often whatever the watch says (default 30 s). */
  readonly resyncMs?: number;
  readonly onWatchError?: (err: unknown) => void;
}

/** The end of a Job from its conditions, or undefined while it runs. */
export function jobEnd(job: V1Job): JobEnd | undefined {
  const conditions = job.status?.conditions ?? [];
  // Complete/Failed are set once the pods are gone; the earlier SuccessCriteriaMet/FailureTarget
  // would race the pod's termination message.
  const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
  if (complete) return { kind: 'complete', job };
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { kind: 'failed', job, reason: failed.reason, message: failed.message };
  return undefined;
}

export function followJob(client: KubernetesClient, initial: V1Job, options: FollowOptions): Promise<JobEnd> {
  const name = initial.metadata?.name;
  if (!name) return Promise.reject(new Error('followJob needs a named Job'));
  const first = jobEnd(initial);
  if (first) return Promise.resolve(first);

  return new Promise<JobEnd>((resolve, reject) => {
    let resourceVersion = initial.metadata?.resourceVersion;
    let settled = false;
    let watch: AbortController | undefined;
    let failures = 0;
    const timers = new Set<NodeJS.Timeout>();
    const baseDelay = options.retryDelayMs ?? 250;

    const later = (ms: number, fn: () => void) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    };
    const cleanup = () => {
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      clearInterval(resync);
      options.signal?.removeEventListener('abort', onAbort);
      watch?.abort();
    };
    const finish = (end: JobEnd) => {
      if (settled) return;
      cleanup();
      resolve(end);
    };
    const fail = (err: unknown) => {
      if (settled) return;
      cleanup();
      reject(err);
    };
    const onAbort = () => finish({ kind: 'aborted' });

    const observe = (job: V1Job) => {
      resourceVersion = job.metadata?.resourceVersion ?? resourceVersion;
      const end = jobEnd(job);
      if (end) finish(end);
    };

    const reread = async () => {
      try {
        observe(await client.readJob(name));
        return true;
      } catch (err) {
        if (err instanceof KubernetesNotFoundError) finish({ kind: 'deleted' });
        else if (err instanceof KubernetesForbiddenError) fail(err);
        else options.onWatchError?.(err);
        return false;
      }
    };

    const open = async () => {
      if (settled) return;
      try {
        watch = await client.watchJobs(
          { name, resourceVersion },
          (event) => {
            if (settled) return;
            if (event.type === 'ERROR') {
              // 410 Gone: our resourceVersion was compacted away; re-read before watching again.
              if ((event.object as { code?: number }).code === 410) resourceVersion = undefined;
              return;
            }
            if (event.type === 'DELETED') return finish({ kind: 'deleted' });
            failures = 0;
            if (event.type === 'BOOKMARK') resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
            else observe(event.object);
          },
          (err) => reopen(err),
        );
        if (settled) watch.abort();
      } catch (err) {
        reopen(err);
      }
    };

    const reopen = (err: unknown) => {
      if (settled) return;
      if (err) {
        if (err instanceof KubernetesForbiddenError) return fail(err);
        if (statusOf(err) === 410 || (err as { status?: number }).status === 410) resourceVersion = undefined;
        options.onWatchError?.(err);
        failures++;
      }
      // At most 5 s, and at most 32 times the base (so a short base in tests stays short).
      const delay = err
        ? backoffDelay(failures - 1, { baseDelayMs: baseDelay, maxDelayMs: Math.min(5_000, baseDelay * 32) })
        : 0;
      later(delay, async () => {
        if (resourceVersion === undefined && !(await reread())) return reopen(new Error('re-read failed'));
        void open();
      });
    };

    const resync = setInterval(() => void reread(), options.resyncMs ?? 30_000);
    later(Math.max(0, options.deadlineAt - Date.now()), () => finish({ kind: 'timeout' }));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    void open();
  });
}
