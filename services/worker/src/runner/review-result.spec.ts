import type { ReviewResult } from '@kritik/core';
import { parseReviewResult } from './review-result.js';

const result: ReviewResult = {
  status: 'posted',
  findings: { critical: 0, major: 1, minor: 2, nit: 0 },
  commentsPosted: 3,
  filesReviewed: 4,
  filesSkipped: 0,
  tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 },
  costUsd: 0.01,
  durationMs: 1200,
};

describe(parseReviewResult.name, () => {
  it('reads a termination message holding one result', () => {
    expect(parseReviewResult(JSON.stringify(result))).toEqual(result);
  });

  it('takes the last valid result line of a log', () => {
    const log = ['progress: 3 files', JSON.stringify({ ...result, status: 'failed' }), JSON.stringify(result), ''];
    expect(parseReviewResult(log.join('\n'))).toEqual(result);
  });

  it('finds nothing in output without a result', () => {
    expect(parseReviewResult('Error: boom\n{"not":"a result"}')).toBeUndefined();
  });
});
