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
  it('keeps every dismissal that fits, and drops the last ones of a result that would not', () => {
    // Rules of multi-byte, escaped characters: ten of them cannot fit beside the rest.
    const dismissed = Array.from({ length: 10 }, (_, i) => ({
      fingerprint: i.toString(16).padStart(16, '0'),
      rule: '"é\\'.repeat(66),
    }));

    const sut = reviewResultSchema.parse(JSON.parse(compactResult({ ...result, dismissed })));

    expect(Buffer.byteLength(compactResult({ ...result, dismissed }))).toBeLessThanOrEqual(RESULT_MAX_BYTES);
    expect(sut.dismissed!.length).toBeGreaterThan(0);
    expect(sut.dismissed!.length).toBeLessThan(10);
    expect(sut.dismissed).toEqual(dismissed.slice(0, sut.dismissed!.length));
  });

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
