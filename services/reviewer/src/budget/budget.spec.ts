import { PRICES } from '@kritik/core';
import { loadFixture } from '../../test/load-fixture.js';
import { type DiffFile, parseUnifiedDiff } from '../diff/diff.js';
import { byValue, CostGate, MAX_OUTPUT_TOKENS, packRequests } from './budget.js';
import { classify } from './classify.js';

const kubectl = parseUnifiedDiff(loadFixture('kubectl'));
const sonnet = PRICES['claude-sonnet-5-5']!;

function file(path: string, lines: number): DiffFile {
  const body = Array.from({ length: lines }, (_, i) => `+line ${i} ${'x'.repeat(40)}`).join('\n');
  return parseUnifiedDiff(`--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines} @@\n${body}\n`)[0]!;
}

describe(classify.name, () => {
  it.each([
    ['pkg/cmd/apply.go', 'source'],
    ['pkg/cmd/apply_test.go', 'test'],
    ['src/__tests__/a.ts', 'test'],
    ['web/app.spec.tsx', 'test'],
    ['docs/guide.md', 'docs'],
    ['README.md', 'docs'],
    ['charts/values.yaml', 'config'],
    ['Dockerfile', 'config'],
    ['go.mod', 'config'],
  ])('classifies %s as %s', (path, kind) => {
    expect(classify(path)).toBe(kind);
  });
});

describe(byValue.name, () => {
  it('orders source before config before tests before docs, larger changes first', () => {
    const files = [
      file('README.md', 50),
      file('a_test.go', 50),
      file('small.go', 2),
      file('big.go', 30),
      file('x.yaml', 5),
    ];

    expect(files.sort(byValue).map((f) => f.path)).toEqual(['big.go', 'small.go', 'x.yaml', 'a_test.go', 'README.md']);
  });
});

describe(packRequests.name, () => {
  it('keeps every request of a real diff under max_input_tokens', () => {
    const sut = packRequests({ files: kubectl, overheadTokens: 3_000, maxInputTokens: 20_000 });

    const sizes = sut.batches.map((b) => 3_000 + b.reduce((n, u) => n + u.tokens, 0));
    expect(sut.batches.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20_000);
  });

  it('puts every hunk of every file into exactly one request', () => {
    const sut = packRequests({ files: kubectl, overheadTokens: 2_000, maxInputTokens: 12_000 });

    const sent = sut.batches.flat().flatMap((u) => u.hunks);
    const expected = kubectl.filter((f) => !sut.tooLarge.includes(f)).flatMap((f) => f.hunks);
    expect(new Set(sent)).toEqual(new Set(expected));
    expect(sent).toHaveLength(expected.length);
  });

  it('sends the most valuable files in the first request', () => {
    const sut = packRequests({
      files: [file('docs/a.md', 200), file('a_test.go', 200), file('main.go', 200)],
      overheadTokens: 0,
      maxInputTokens: 5_000,
    });

    expect(sut.batches.map((b) => b.map((u) => u.file.path))).toEqual([['main.go'], ['a_test.go'], ['docs/a.md']]);
  });

  it('splits a file bigger than one request into numbered hunk parts', () => {
    const big = kubectl.reduce((a, b) => (b.hunks.length > a.hunks.length ? b : a));
    const sut = packRequests({ files: [big], overheadTokens: 0, maxInputTokens: 4_000 });

    const parts = sut.batches.flat();
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((u) => u.part)).toEqual(parts.map((_, i) => ({ index: i + 1, of: parts.length })));
    expect(parts[0]!.text).toContain(`part 1 of ${parts.length}`);
  });

  it('reports a file whose single hunk cannot fit as too large', () => {
    const huge = file('gen.go', 2_000);

    const sut = packRequests({ files: [huge, file('ok.go', 3)], overheadTokens: 0, maxInputTokens: 4_000 });

    expect(sut.tooLarge).toEqual([huge]);
    expect(sut.batches.flat().map((u) => u.file.path)).toEqual(['ok.go']);
  });
});

describe(CostGate.name, () => {
  it('allows the full output when the budget is ample', () => {
    const sut = new CostGate(1, sonnet);

    expect(sut.outputAllowance(2_000, 20_000)).toBe(MAX_OUTPUT_TOKENS);
  });

  it('shrinks the output allowance to what the remaining budget pays for', () => {
    const sut = new CostGate(0.1, sonnet);
    sut.record(0.06);

    // $0.04 left, 10k input tokens at $2/M = $0.02, leaving $0.02 = 2,000 output tokens at $10/M.
    expect(sut.outputAllowance(0, 10_000)).toBe(2_000);
  });

  it('refuses a request the budget cannot pay for', () => {
    const sut = new CostGate(0.05, sonnet);
    sut.record(0.049);

    expect(sut.outputAllowance(1_000, 1_000)).toBe(0);
  });
});
