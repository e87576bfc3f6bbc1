// Runs a review as one hardened Kubernetes Job: the Job created suspended, its ephemeral Secret
// owned by it, the Job resumed, then watched; result from the termination message (logs as
// fallback), deletion past the deadline. Every step is idempotent by review id, so a restarted
// worker adopts what its predecessor created, and a crash between steps leaves no Secret that
// the garbage collector would not remove with its Job.
import type { ReviewJobSettings } from '@kritik/core';
import { LABELS } from '@kritik/core';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { parseReviewResult } from '../runner/review-result.js';
import {
  type ExistingRun,
  type ReviewRunner,
  type RunOutcome,
  type RunRequest,
  TIMEOUT_REASON,
} from '../runner/review-runner.js';
import { followJob, type JobEnd, jobEnd } from './job-follower.js';
import type { KubernetesClient } from './kubernetes.client.js';
import { KubernetesApiError, KubernetesConflictError, KubernetesNotFoundError } from './kubernetes.errors.js';
import {
  buildReviewJob,
  buildReviewSecret,
  JOB_RESUME_PATCH,
  REVIEW_SELECTOR,
  REVIEWER_CONTAINER,
  type ReviewCredentials,
  reviewJobName,
  reviewOfJob,
  secretCredentialsPatch,
} from './review-job.builder.js';

export interface KubernetesRunnerOptions {
  readonly settings: ReviewJobSettings;
  /** Extra time past activeDeadlineSeconds before the worker deletes the Job itself. */
  readonly deadlineMarginSeconds: number;
  /** Periodic re-read of a followed Job (safety net under the watch). */
  readonly resyncMs?: number;
  readonly onWatchError?: (err: unknown) => void;
}

export class KubernetesJobRunner implements ReviewRunner {
  readonly kind = 'kubernetes' as const;

  constructor(
    private readonly client: KubernetesClient,
    private readonly options: KubernetesRunnerOptions,
  ) {}

  async run(request: RunRequest): Promise<RunOutcome> {
    const { payload } = request;
    const name = reviewJobName(payload.reviewId);
    try {
      if (request.signal.aborted) return { kind: 'cancelled' };
      if (request.detach?.aborted) return { kind: 'detached' };
      const { job, adopted } = await this.dispatch(payload, request);
      request.onDispatched?.(adopted ? 'adopted' : 'created');
      const end = await followJob(this.client, job, {
        deadlineAt: this.deadlineOf(job),
        signal: request.detach ? AbortSignal.any([request.signal, request.detach]) : request.signal,
        resyncMs: this.options.resyncMs,
        onWatchError: this.options.onWatchError,
      });
      if (end.kind === 'aborted' && !request.signal.aborted) return { kind: 'detached' };
      return await this.conclude(name, end);
    } catch (err) {
      if (err instanceof KubernetesApiError) return { kind: 'failed', reason: err.message };
      throw err;
    }
  }

  /**
   * Creates the review's Job suspended (or adopts the one a predecessor created), its Secret
   * owned by the Job, then lets the Job start. A crash between any two steps leaves nothing
   * the garbage collector would not remove with the Job, and the next try completes the rest.
   */
  async dispatch(
    payload: RunRequest['payload'],
    credentials: ReviewCredentials,
  ): Promise<{ job: V1Job; adopted: boolean }> {
    const name = reviewJobName(payload.reviewId);
    const input = {
      namespace: this.client.namespace,
      payload,
      settings: this.options.settings,
      model: credentials.model,
    };
    const { job, adopted } = await this.ensureJob(name, buildReviewJob(input));
    await this.ensureSecret(name, buildReviewSecret(input, credentials, job), credentials);
    return { job: job.spec?.suspend ? await this.client.patchJob(name, JOB_RESUME_PATCH) : job, adopted };
  }

  async listRuns(): Promise<ExistingRun[]> {
    const { items } = await this.client.listJobs(REVIEW_SELECTOR);
    return items.flatMap((job) => {
      const reviewId = job.metadata?.labels?.[LABELS.reviewId];
      if (!reviewId) return [];
      const review = reviewOfJob(job);
      const created = job.metadata?.creationTimestamp;
      return [
        {
          reviewId,
          finished: jobEnd(job) !== undefined,
          ...(review ? { review } : {}),
          ...(created ? { createdAt: new Date(created) } : {}),
        },
      ];
    });
  }

  async discard(reviewId: string): Promise<void> {
    const name = reviewJobName(reviewId);
    // Its Secret, owned by the Job, goes with it.
    await this.deleteQuietly(name);
  }

  private async ensureSecret(
    name: string,
    secret: Parameters<KubernetesClient['createSecret']>[0],
    credentials: ReviewCredentials,
  ) {
    try {
      await this.client.createSecret(secret);
    } catch (err) {
      if (!(err instanceof KubernetesConflictError)) throw err;
      // Left by an earlier attempt: its token may have expired, so hand the Job a fresh one.
      await this.client.patchSecret(name, secretCredentialsPatch(credentials));
    }
  }

  private async ensureJob(name: string, body: V1Job): Promise<{ job: V1Job; adopted: boolean }> {
    try {
      return { job: await this.client.createJob(body), adopted: false };
    } catch (err) {
      if (!(err instanceof KubernetesConflictError)) throw err;
      return { job: await this.client.readJob(name), adopted: true };
    }
  }

  private deadlineOf(job: V1Job): number {
    const started = job.status?.startTime ?? job.metadata?.creationTimestamp;
    const from = started ? new Date(started).getTime() : Date.now();
    const seconds =
      (job.spec?.activeDeadlineSeconds ?? this.options.settings.activeDeadlineSeconds) +
      this.options.deadlineMarginSeconds;
    return from + seconds * 1000;
  }

  private async conclude(name: string, end: JobEnd): Promise<RunOutcome> {
    switch (end.kind) {
      case 'aborted':
        await this.deleteQuietly(name);
        return { kind: 'cancelled' };
      case 'timeout':
        await this.deleteQuietly(name);
        return { kind: 'failed', reason: TIMEOUT_REASON, detail: 'the review Job did not finish within its deadline' };
      case 'deleted':
        return { kind: 'failed', reason: 'the review Job was deleted before it finished' };
      case 'complete':
      case 'failed': {
        if (end.kind === 'failed' && end.reason === 'DeadlineExceeded') {
          await this.deleteQuietly(name);
          return { kind: 'failed', reason: TIMEOUT_REASON, detail: end.message ?? 'activeDeadlineSeconds exceeded' };
        }
        const { result, crash } = await this.readResult(name);
        if (result) return { kind: 'reported', result };
        return {
          kind: 'failed',
          reason: `the reviewer ended without a result (${crash ?? (end.kind === 'failed' ? end.reason : undefined) ?? end.kind})`,
        };
      }
    }
  }

  /** The reviewer's result: its termination message, else its log; with how it ended if neither. */
  private async readResult(name: string): Promise<{ result?: ReturnType<typeof parseReviewResult>; crash?: string }> {
    const pods = await this.client.listPods(`batch.kubernetes.io/job-name=${name}`);
    const pod = newest(pods);
    if (!pod) return { crash: 'no pod was found' };
    const status = pod.status?.containerStatuses?.find((c) => c.name === REVIEWER_CONTAINER);
    const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
    const fromMessage = parseReviewResult(terminated?.message);
    if (fromMessage) return { result: fromMessage };
    const log = await this.client.readPodLog(pod.metadata!.name!, REVIEWER_CONTAINER).catch(() => undefined);
    const fromLog = parseReviewResult(log);
    if (fromLog) return { result: fromLog };
    const crash = terminated
      ? `exit code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''}`
      : `pod ${pod.status?.phase ?? 'unknown'}`;
    return { crash };
  }

  private async deleteQuietly(name: string) {
    await this.client.deleteJob(name).catch((err) => {
      if (!(err instanceof KubernetesNotFoundError)) throw err;
    });
  }
}

const newest = (pods: V1Pod[]) =>
  [...pods].sort(
    (a, b) =>
      new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
  )[0];
