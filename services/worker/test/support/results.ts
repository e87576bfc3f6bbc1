// A reviewer's result as the worker's tests need it, for stand-in reviewers and parsers.
import type { ReviewResult } from '@kritik/core';

export function postedResult(overrides: Partial<ReviewResult> = {}): ReviewResult {
  return {
    status: 'posted',
    findings: { critical: 0, major: 1, minor: 0, nit: 0 },
    commentsPosted: 1,
    filesReviewed: 1,
    filesSkipped: 0,
    tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0.01,
    durationMs: 5,
    ...overrides,
  };
}
