import { RESULT_MAX_BYTES, type ReviewResult, reviewResultSchema, SEVERITIES } from '@kritik/core';
import fc from 'fast-check';
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

/** Strings a pull request or a model could produce: quotes, backslashes, control characters, multi-byte and astral. */
const hostileUnit = fc.constantFrom('a', '"', '\\', '\u0000', '\n', '\u2028', 'é', '漢', '😀', '<', '&', '…');
/** Short strings, and strings of up to `maxLength` units (fast-check draws short ones by default). */
const hostile = (maxLength: number) =>
  fc.oneof(fc.string({ unit: hostileUnit, maxLength: 12 }), fc.string({ unit: hostileUnit, maxLength, size: 'max' }));

const reportArb = fc.record({
  status: fc.constantFrom('posted', 'skipped', 'failed') as fc.Arbitrary<ReviewReport['status']>,
  reason: fc.option(hostile(6_000), { nil: undefined }),
  model: fc.option(hostile(2_000), { nil: undefined }),
  findingList: fc.oneof(
    fc.array(
      fc.record({
        path: hostile(3_000),
        line: fc.integer({ min: -5, max: 1e9 }),
        severity: fc.constantFrom(...SEVERITIES),
        title: hostile(3_000),
        inline: fc.boolean(),
      }),
      { maxLength: 40 },
    ),
    // Ten thousand findings: one shape, so building them stays cheap.
    fc.tuple(hostile(400), hostile(400)).map(([path, title]) =>
      Array.from({ length: 10_000 }, (_, i) => ({
        path,
        line: i,
        severity: 'nit' as const,
        title,
        inline: i % 2 === 0,
      })),
    ),
  ),
  skippedFiles: fc.array(fc.record({ path: hostile(2_000), reason: hostile(2_000) }), { maxLength: 300 }),
  filesReadPaths: fc.array(hostile(1_500), { maxLength: 500 }),
  dismissed: fc.array(
    fc.record({ fingerprint: fc.stringMatching(/^[0-9a-f]{16}$/), rule: hostile(200).filter((r) => r.length > 0) }),
    { maxLength: 10 },
  ),
});

describe(`${compactResult.name} of any report`, () => {
  it('is JSON within the termination message that the core schema parses, with the status and counts whole', () => {
    fc.assert(
      fc.property(reportArb, (drawn) => {
        const report: ReviewReport = {
          ...result,
          ...drawn,
          reason: drawn.reason,
          turns: 7,
          toolCalls: 3,
          filesRead: drawn.filesReadPaths.length,
          verification: { checked: 4, kept: 2, corrected: 1, dropped: 1 },
          fallback: { from: 'claude-sonnet-4-5', to: 'claude-haiku-4-5', calls: 2 },
        };

        const sut = compactResult(coreResult(report));

        expect(Buffer.byteLength(sut)).toBeLessThanOrEqual(RESULT_MAX_BYTES);
        const parsed = reviewResultSchema.parse(JSON.parse(sut));
        expect(parsed).toMatchObject({
          status: report.status,
          findings: report.findings,
          commentsPosted: report.commentsPosted,
          filesReviewed: report.filesReviewed,
          filesSkipped: report.filesSkipped,
          tokens: report.tokens,
          costUsd: report.costUsd,
          turns: 7,
          toolCalls: 3,
          filesRead: drawn.filesReadPaths.length,
        });
        // What is dropped is counted, and what is kept is the head of the list in order.
        const findings = parsed.findingList ?? [];
        expect(findings.length + (parsed.findingsOmitted ?? 0)).toBe(report.findingList.length);
        expect(findings.map((f) => f.line)).toEqual(report.findingList.slice(0, findings.length).map((f) => f.line));
        expect((parsed.skippedFiles ?? []).length + (parsed.skippedOmitted ?? 0)).toBe(report.skippedFiles.length);
        if (report.reason !== undefined && parsed.reason !== undefined && parsed.reason !== report.reason)
          expect(parsed.reason.endsWith('…')).toBe(true);
      }),
      // No shrinking: a failing report of 10,000 findings would take minutes to shrink.
      { numRuns: 60, endOnFailure: true },
    );
  });

  it('drops the read paths first, then findings beyond ten, then skipped files beyond five', () => {
    const many = (n: number, size: number) => Array.from({ length: n }, (_, i) => `${i}`.padEnd(size, 'x'));
    const report: ReviewReport = {
      ...result,
      filesRead: 30,
      filesReadPaths: many(30, 100),
      findingList: many(30, 100).map((title, i) => ({
        path: `src/${i}.ts`,
        line: i + 1,
        severity: 'minor',
        title,
        inline: true,
      })),
      skippedFiles: many(30, 60).map((path) => ({ path, reason: 'binary file' })),
    };

    const sut = reviewResultSchema.parse(JSON.parse(compactResult(coreResult(report))));

    expect(sut.filesReadPaths).toBeUndefined();
    expect(sut.filesRead).toBe(30);
    expect(sut.findingList).toHaveLength(10);
    expect(sut.findingsOmitted).toBe(20);
    expect(sut.skippedFiles!.length).toBeGreaterThanOrEqual(5);
    expect(sut.skippedFiles!.length + sut.skippedOmitted!).toBe(30);
    expect(sut.reason).toBe('x');
    expect(sut.reviewUrl).toBe(result.reviewUrl);
  });

  it('keeps a result of an older reviewer, without detail, parsing', () => {
    const old = JSON.parse(JSON.stringify(result));

    expect(reviewResultSchema.parse(JSON.parse(compactResult(old)))).toEqual(result);
  });
});

describe(coreResult.name, () => {
  it('keeps the lists and the loop figures, clipping strings to the core bounds, and drops dryRun', () => {
    const figures = {
      model: 'm',
      turns: 3,
      toolCalls: 2,
      filesRead: 1,
      filesReadPaths: ['lib/c.ts'],
      verification: { checked: 1, kept: 1, corrected: 0, dropped: 0 },
      skippedFiles: [{ path: 'b', reason: 'binary file' }],
    };
    const finding = { path: 'a', line: 1, severity: 'nit', inline: true } as const;
    const report: ReviewReport = {
      ...result,
      ...figures,
      findingList: [{ ...finding, title: 't'.repeat(400) }],
      dryRun: true,
    };

    const sut = coreResult(report);

    expect(sut).toEqual({ ...result, ...figures, findingList: [{ ...finding, title: `${'t'.repeat(299)}…` }] });
  });

  it('leaves empty lists out, as results without detail had them', () => {
    expect(coreResult({ ...result, findingList: [], skippedFiles: [] })).toEqual(result);
  });
});
