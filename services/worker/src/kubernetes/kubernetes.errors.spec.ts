import { ApiException } from '@kubernetes/client-node';
import {
  isRetryable,
  type KubeOperation,
  KubernetesConflictError,
  KubernetesForbiddenError,
  retryDelay,
  toKubernetesError,
  withRetry,
} from './kubernetes.errors.js';

const op: KubeOperation = { verb: 'create', resource: 'jobs.batch', namespace: 'kritik-jobs' };
const apiError = (code: number, headers: Record<string, string> = {}, message = 'boom') =>
  new ApiException(code, 'Unknown API Status Code!', { kind: 'Status', message }, headers);
const noWait = async () => {};

describe(withRetry.name, () => {
  it('retries 429 and 5xx until the call succeeds', async () => {
    const failures = [apiError(429), apiError(503), apiError(500)];
    const delays: number[] = [];
    const sut = await withRetry(
      op,
      async () => {
        const next = failures.shift();
        if (next) throw next;
        return 'created';
      },
      { attempts: 5, baseDelayMs: 10, maxDelayMs: 100 },
      (_attempt, delay) => delays.push(delay),
      noWait,
    );
    expect(sut).toBe('created');
    expect(delays).toHaveLength(3);
  });

  it('gives up after the configured attempts with the last status in the message', async () => {
    let calls = 0;
    const sut = withRetry(
      op,
      async () => {
        calls++;
        throw apiError(503);
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      undefined,
      noWait,
    );
    await expect(sut).rejects.toThrow(/create jobs.batch in namespace "kritik-jobs" failed with HTTP 503/);
    expect(calls).toBe(3);
  });

  it('does not retry a 403 and names the verb and resource', async () => {
    let calls = 0;
    const sut = withRetry(
      op,
      async () => {
        calls++;
        throw apiError(403, {}, 'jobs.batch is forbidden: User "system:serviceaccount:a:b" cannot create resource');
      },
      undefined,
      undefined,
      noWait,
    );
    await expect(sut).rejects.toThrow(KubernetesForbiddenError);
    await expect(sut).rejects.toThrow(/denied the worker "create" on "jobs.batch" in namespace "kritik-jobs"/);
    expect(calls).toBe(1);
  });

  it('turns a 409 into a conflict the caller can adopt', async () => {
    const sut = withRetry(op, async () => Promise.reject(apiError(409)), undefined, undefined, noWait);
    await expect(sut).rejects.toBeInstanceOf(KubernetesConflictError);
  });
});

describe(retryDelay.name, () => {
  const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 2_000 };

  it('grows exponentially with jitter and never passes the cap', () => {
    const sut = [0, 1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(attempt, policy, undefined, () => 1));
    expect(sut).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(retryDelay(3, policy, undefined, () => 0)).toBe(400);
  });

  it('honours Retry-After, capped', () => {
    expect(retryDelay(0, policy, apiError(429, { 'retry-after': '1' }))).toBe(1000);
    expect(retryDelay(0, policy, apiError(429, { 'retry-after': '60' }))).toBe(2000);
  });
});

describe(isRetryable.name, () => {
  it('treats a refused connection as transient and a 400 as final', () => {
    expect(isRetryable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryable(apiError(400))).toBe(false);
  });
});

describe(toKubernetesError.name, () => {
  it('keeps the apiserver message of an unexpected status', () => {
    expect(toKubernetesError(op, apiError(422, {}, 'spec.template: Invalid value')).message).toContain(
      'HTTP 422: spec.template: Invalid value',
    );
  });
});
