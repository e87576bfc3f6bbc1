import fc from 'fast-check';
import { loadFixture } from '../../test/load-fixture.js';
import { parseUnifiedDiff } from './diff.js';
import { DiffIndex } from './line-map.js';

// Two real diffs concatenated would share paths such as go.mod, so the cases stay in one of them.
const files = parseUnifiedDiff(loadFixture('x-net'));
const sut = new DiffIndex(files);

const addedLines = files.flatMap((f) =>
  f.hunks.flatMap((h) => h.lines.filter((l) => l.kind === 'add').map((l) => ({ path: f.path, line: l.newLine! }))),
);
const rightSide = (path: string) => {
  const set = new Set<number>();
  for (const h of sut.file(path)!.hunks) for (const l of h.lines) if (l.newLine !== null) set.add(l.newLine);
  return set;
};
const reviewable = files.filter((f) => f.newPath !== null && !f.binary && f.hunks.length > 0);

describe(DiffIndex.name, () => {
  it('places a finding on any added line of a real diff exactly on that line', () => {
    fc.assert(
      fc.property(fc.constantFrom(...addedLines), ({ path, line }) => {
        expect(sut.place(path, line)).toEqual({ inline: true, path, line });
      }),
      { numRuns: 500 },
    );
  });

  it('sends a finding on any line outside the diff to the summary', () => {
    const outside = fc
      .tuple(fc.constantFrom(...reviewable), fc.integer({ min: 1, max: 20_000 }))
      .filter(([f, line]) => !rightSide(f.path).has(line));
    fc.assert(
      fc.property(outside, ([f, line]) => {
        expect(sut.place(f.path, line)).toMatchObject({ inline: false, path: f.path });
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a multi-line range inside one hunk, ending on a line of that hunk', () => {
    fc.assert(
      fc.property(fc.constantFrom(...addedLines), fc.integer({ min: 1, max: 400 }), ({ path, line }, span) => {
        const placed = sut.place(path, line, line + span);
        expect(placed.inline).toBe(true);
        if (!placed.inline) return;
        const hunk = sut.file(path)!.hunks.find((h) => line >= h.newStart && line < h.newStart + h.newLines)!;
        expect(placed.line).toBeLessThanOrEqual(hunk.newStart + hunk.newLines - 1);
        expect(placed.startLine ?? placed.line).toBe(line);
      }),
      { numRuns: 300 },
    );
  });

  it('places a range that starts before a hunk on the part inside it', () => {
    const file = parseUnifiedDiff('--- a/x\n+++ b/x\n@@ -10,2 +10,3 @@\n a\n+b\n c\n')[0]!;

    expect(new DiffIndex([file]).place('x', 5, 11)).toEqual({ inline: true, path: 'x', line: 11, startLine: 10 });
  });

  it('sends findings on deleted and unknown files to the summary with the reason', () => {
    const deleted = files.find((f) => f.status === 'deleted')!;
    expect(deleted).toBeDefined();

    expect([sut.place(deleted.path, 1).inline, sut.place('no/such/file.go', 1)]).toEqual([
      false,
      { inline: false, path: 'no/such/file.go', reason: 'file is not part of the diff' },
    ]);
  });

  it('finds a renamed file by its old path and answers with the new one', () => {
    const placed = sut.place('http2/gate_test.go', 1);

    expect(placed).toMatchObject({ path: 'internal/gate/gate.go' });
  });

  it('accepts paths with git prefixes or a leading ./', () => {
    const { path, line } = addedLines[0]!;

    expect([sut.place(`b/${path}`, line), sut.place(`./${path}`, line)]).toEqual([
      { inline: true, path, line },
      { inline: true, path, line },
    ]);
  });

  it('sends a finding without a valid line number to the summary', () => {
    const { path } = addedLines[0]!;

    expect([sut.place(path, 0).inline, sut.place(path, 1.5).inline]).toEqual([false, false]);
  });
});
