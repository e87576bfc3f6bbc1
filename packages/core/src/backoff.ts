// How long to wait before trying again, for every retry loop of every deployable: capped
// exponential backoff, optionally with jitter so that callers who failed together do not retry
// together. Where a server asks for a delay (Retry-After), the caller's own rule wins over this.

export interface Backoff {
  /** The delay before the first retry. */
  readonly baseDelayMs: number;
  /** No delay is longer than this. */
  readonly maxDelayMs: number;
  /** Pick each delay uniformly from the upper half of its step ("equal jitter"). */
  readonly jitter?: boolean;
}

/** The delay before retry number `retry` (0: the first retry): `baseDelayMs` doubled per earlier retry, at most `maxDelayMs`. */
export function backoffDelay(retry: number, policy: Backoff, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry));
  return policy.jitter ? Math.round(step / 2 + (random() * step) / 2) : step;
}
