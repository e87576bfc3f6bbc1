import { RESULT_MAX_BYTES, type ReviewResult, reviewResultSchema } from '@kritik/core';
import { compactResult, coreResult, type ReviewReport } from './result.js';

const result: ReviewResult = {
  status: 'failed',
  reason: 'x',
  findings: { critical: 1, major: 0, minor: 2, nit: 0 },
  commentsPosted: 3,
  filesReviewed: 4,
  filesSkipped: 5,
  tokens: { input: 1, output: 2, cacheRead: 3, cacheWrite: 4 },
  costUsd: 0.01,
  durationMs: 1234,
  reviewUrl: 'https://github.com/a/b/pull/1#pullrequestreview-1',
  checkRunId: 9,
  checkConcluded: true,
};

describe(compactResult.name, () => {
  it('keeps a small result whole', () => {
    expect(JSON.parse(compactResult(result))).toEqual(result);
  });

  it('shortens a long reason, even of multi-byte characters, to fit the 4 KB termination message', () => {
    const sut = compactResult({ ...result, reason: `${'é"\\'.repeat(3000)} end` });

    expect(Buffer.byteLength(sut)).toBeLessThanOrEqual(RESULT_MAX_BYTES);
    const parsed = reviewResultSchema.parse(JSON.parse(sut));
    expect(parsed.reason!.endsWith('…')).toBe(true);
    expect(parsed.findings).toEqual(result.findings);
  });
});

describe(coreResult.name, () => {
  it('drops the finding and file lists of the JSON report', () => {
    const report: ReviewReport = {
      ...result,
      findingList: [{ path: 'a', line: 1, severity: 'nit', title: 't', inline: true }],
      skippedFiles: [{ path: 'b', reason: 'binary file' }],
      dryRun: true,
      model: 'm',
    };

    expect(coreResult(report)).toEqual(result);
  });
});
