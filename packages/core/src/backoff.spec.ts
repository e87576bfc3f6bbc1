import { backoffDelay } from './backoff.js';

describe(backoffDelay.name, () => {
  it('doubles the delay with each retry up to the maximum', () => {
    const sut = [0, 1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, { baseDelayMs: 1_000, maxDelayMs: 5_000 }));
    expect(sut).toEqual([1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('treats a negative retry number as the first retry', () => {
    expect(backoffDelay(-1, { baseDelayMs: 100, maxDelayMs: 1_000 })).toBe(100);
  });

  it('with jitter, picks from the upper half of each step and never passes the cap', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 2_000, jitter: true };
    const highest = [0, 1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, policy, () => 1));
    const lowest = [0, 1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, policy, () => 0));
    expect(highest).toEqual([100, 200, 400, 800, 1_600, 2_000, 2_000]);
    expect(lowest).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
  });
});
