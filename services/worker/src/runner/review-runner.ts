// The runner contract: run one review to its end and say how it ended. Two implementations, a
// Kubernetes Job per review and a local child process, chosen by KRITIK_RUNNER.
import type { ReviewPayload, ReviewRequest, ReviewResult } from '@kritik/core';

export const RUNNER_KINDS = ['kubernetes', 'local'] as const;
export type RunnerKind = (typeof RUNNER_KINDS)[number];

/** Injection token of the configured {@link ReviewRunner}. */
export const REVIEW_RUNNER = 'KRITIK_REVIEW_RUNNER';

/** Reason recorded when a review passes its deadline. */
export const TIMEOUT_REASON = 'timeout';

/**
 * How the reviewer reaches the model. Through the gateway, it holds a per-review token that the
 * gateway alone accepts; directly, a Job reads the Anthropic key from its Secret and a local
 * process gets the worker's key.
 */
export type ModelAccess = (
  | { readonly kind: 'gateway'; readonly baseUrl: string; readonly token: string }
  | { readonly kind: 'direct'; readonly baseUrl?: string }
) & {
  /** The reviewer's model settings (provider, catalogue, fallback), as core's modelEnv writes them. */
  readonly env?: Readonly<Record<string, string>>;
};

export interface RunRequest {
  readonly payload: ReviewPayload;
  /** The short-lived repository token; reaches the reviewer only, never a log. */
  readonly token: string;
  readonly model: ModelAccess;
  /** Aborting stops the review and removes what it started (a newer SHA superseded it). */
  readonly signal: AbortSignal;
  /**
   * Aborting stops following the review but leaves it running (the worker shuts down or lost its
   * lease); whoever picks the review up next adopts it.
   */
  readonly detach?: AbortSignal;
  /** Called once the review is running: its Job created or found (adopted), or its process spawned. */
  readonly onDispatched?: (how: 'created' | 'adopted') => void;
}

export type RunOutcome =
  /** The reviewer reported a result (posted, skipped or failed by its own account). */
  | { readonly kind: 'reported'; readonly result: ReviewResult }
  /** No result: crash, OOM, timeout, or the platform refused; `reason` says which. */
  | { readonly kind: 'failed'; readonly reason: string; readonly detail?: string }
  /** Stopped through `signal`. */
  | { readonly kind: 'cancelled' }
  /** Let go through `detach`; the review may still be running. */
  | { readonly kind: 'detached' };

/** A run found on the platform, e.g. the Job of a worker that died. */
export interface ExistingRun {
  readonly reviewId: string;
  /** The review it runs, when the runner recorded it. */
  readonly review?: ReviewRequest;
  readonly finished: boolean;
  readonly createdAt?: Date;
}

export interface ReviewRunner {
  readonly kind: RunnerKind;
  run(request: RunRequest): Promise<RunOutcome>;
  /** Runs on the platform; empty for runners whose runs end with the worker process. */
  listRuns(): Promise<ExistingRun[]>;
  /** Stops a run and removes its objects (no-op when it is gone). */
  discard(reviewId: string): Promise<void>;
}
