import { parseReviewInput } from './anthropic.js';

const finding = (over: Record<string, unknown>) => ({
  path: 'src/a.ts',
  line: 10,
  severity: 'major',
  title: 'Retry without backoff',
  body: 'Add a delay.',
  suggestion: 'retry(backoff)',
  ...over,
});

describe(parseReviewInput.name, () => {
  it('keeps a range that ends after its first line, with its suggestion', () => {
    const sut = parseReviewInput({ findings: [finding({ end_line: 12 }), finding({ end_line: '14' })] });

    expect(sut.findings.map((f) => [f.line, f.end_line, f.suggestion])).toEqual([
      [10, 12, 'retry(backoff)'],
      [10, 14, 'retry(backoff)'],
    ]);
    expect(sut.dropped).toBe(0);
  });

  it.each([
    ['negative', -3],
    ['reversed', 4],
    ['zero', 0],
    ['fractional', 11.5],
    ['not a number', '12; DROP TABLE'],
    ['past any safe integer', 1e300],
    ['an object', { line: 12 }],
  ])('keeps the finding on its line alone, without its suggestion, when end_line is %s', (_what, end) => {
    const sut = parseReviewInput({ findings: [finding({ end_line: end })] });

    expect(sut.findings).toEqual([
      { path: 'src/a.ts', line: 10, severity: 'major', title: 'Retry without backoff', body: 'Add a delay.' },
    ]);
    expect(sut.dropped).toBe(0);
  });

  it('treats an end_line equal to the line, or none, as a single line that keeps its suggestion', () => {
    const sut = parseReviewInput({ findings: [finding({ end_line: 10 }), finding({ end_line: null }), finding({})] });

    expect(sut.findings.map((f) => [f.end_line, f.suggestion])).toEqual([
      [undefined, 'retry(backoff)'],
      [undefined, 'retry(backoff)'],
      [undefined, 'retry(backoff)'],
    ]);
  });

  it('keeps a huge but whole end_line for placement to clip to its hunk', () => {
    const sut = parseReviewInput({ findings: [finding({ end_line: 2 ** 40 })] });

    expect(sut.findings[0]!.end_line).toBe(2 ** 40);
  });
});
