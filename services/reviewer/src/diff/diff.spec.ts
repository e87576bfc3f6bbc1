import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadFixture } from '../../test/load-fixture.js';
import { type DiffFile, fileFromPatch, newLineText, parseUnifiedDiff, unquote } from './diff.js';

const totals = (files: DiffFile[]) => ({
  files: files.length,
  additions: files.reduce((n, f) => n + f.additions, 0),
  deletions: files.reduce((n, f) => n + f.deletions, 0),
  added: files.filter((f) => f.status === 'added').length,
  deleted: files.filter((f) => f.status === 'deleted').length,
  renamed: files.filter((f) => f.status === 'renamed').length,
  binary: files.filter((f) => f.binary).length,
});

/** Rebuilds the new file from the old one and the parsed hunks. */
function applyHunks(old: string[], file: DiffFile): string[] {
  const out: string[] = [];
  let next = 1;
  for (const h of file.hunks) {
    const start = h.oldLines === 0 ? h.oldStart + 1 : h.oldStart;
    while (next < start) out.push(old[next++ - 1]!);
    for (const l of h.lines) {
      if (l.kind !== 'add') next++;
      if (l.kind !== 'del') out.push(l.text);
    }
  }
  while (next <= old.length) out.push(old[next++ - 1]!);
  return out;
}

function gitDiff(oldText: string, newText: string, context: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-diff-'));
  try {
    writeFileSync(join(dir, 'old.txt'), oldText);
    writeFileSync(join(dir, 'new.txt'), newText);
    const r = spawnSync('git', ['diff', '--no-index', `-U${context}`, '--', 'old.txt', 'new.txt'], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (r.status !== 0 && r.status !== 1) throw new Error(`git diff failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Lines chosen to look like diff syntax, so a parser that trusts line prefixes over hunk counts fails.
const trickyLine = fc.oneof(
  fc.constantFrom('', ' ', '--- a/x', '+++ b/x', '-- x', '++', '@@ -1 +1 @@', '\\ No newline', 'diff --git a b', 'ü ✓'),
  fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, '')),
);
const fileText = fc
  .record({ lines: fc.array(trickyLine, { maxLength: 25 }), eol: fc.boolean() })
  .map(({ lines, eol }) => (lines.length === 0 ? '' : lines.join('\n') + (eol ? '\n' : '')));
const toLines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

describe(parseUnifiedDiff.name, () => {
  it('reads a diff with CRLF line endings exactly as the same diff with LF', () => {
    const lf = loadFixture('cadvisor');

    const sut = parseUnifiedDiff(lf.replace(/\n/g, '\r\n'));

    expect(sut).toEqual(parseUnifiedDiff(lf));
    expect(sut.reduce((n, f) => n + f.additions, 0)).toBeGreaterThan(0);
  });

  it('reads every file and line count of a real release-to-release diff', () => {
    const sut = parseUnifiedDiff(loadFixture('go-cmp'));

    expect(totals(sut)).toEqual({
      files: 8,
      additions: 100,
      deletions: 41,
      added: 0,
      deleted: 0,
      renamed: 0,
      binary: 0,
    });
  });

  it('recognises renames, deletions and additions in a real diff', () => {
    const sut = parseUnifiedDiff(loadFixture('cadvisor'));

    // git's numstat counts one binary file here, but a 100% rename carries no binary marker.
    expect(totals(sut)).toEqual({
      files: 47,
      additions: 480,
      deletions: 644,
      added: 2,
      deleted: 1,
      renamed: 10,
      binary: 0,
    });
  });

  it('keeps both paths of a renamed file', () => {
    const sut = parseUnifiedDiff(loadFixture('x-net'));

    const renamed = sut.find((f) => f.newPath === 'internal/gate/gate.go');
    expect(renamed).toMatchObject({ status: 'renamed', oldPath: 'http2/gate_test.go', similarity: 52 });
  });

  it('marks binary files and the no-newline marker of a real diff', () => {
    const sut = parseUnifiedDiff(loadFixture('x-net'));

    expect(totals(sut)).toMatchObject({ files: 146, additions: 12601, deletions: 4834, binary: 2, deleted: 6 });
    const text = sut.find((f) => f.path === 'publicsuffix/data/text')!;
    expect(text.hunks[0]!.lines.map((l) => [l.kind, l.noNewline ?? false])).toEqual([
      ['del', true],
      ['add', true],
    ]);
  });

  it('reads a 459-file diff completely', () => {
    const sut = parseUnifiedDiff(loadFixture('client-go'));

    expect(totals(sut)).toMatchObject({ files: 459, additions: 18065, deletions: 2488, added: 117 });
  });

  it('numbers lines as in the new and old files', () => {
    const diff = [
      'diff --git a/f.txt b/f.txt',
      '--- a/f.txt',
      '+++ b/f.txt',
      '@@ -10,3 +10,4 @@ func x()',
      ' keep',
      '-gone',
      '+new one',
      '+new two',
      ' tail',
    ].join('\n');

    const sut = parseUnifiedDiff(diff)[0]!;

    expect(sut.hunks[0]!.section).toBe('func x()');
    expect(sut.hunks[0]!.lines).toEqual([
      { kind: 'ctx', text: 'keep', oldLine: 10, newLine: 10 },
      { kind: 'del', text: 'gone', oldLine: 11, newLine: null },
      { kind: 'add', text: 'new one', oldLine: null, newLine: 11 },
      { kind: 'add', text: 'new two', oldLine: null, newLine: 12 },
      { kind: 'ctx', text: 'tail', oldLine: 12, newLine: 13 },
    ]);
  });

  it('reads a removed line that looks like a file header as a removed line', () => {
    const diff = ['--- a/x.md', '+++ b/x.md', '@@ -1,2 +1,1 @@', '--- not a header', ' ok'].join('\n');

    const sut = parseUnifiedDiff(diff);

    expect(sut).toHaveLength(1);
    expect(sut[0]!.hunks[0]!.lines[0]).toMatchObject({ kind: 'del', text: '-- not a header' });
  });

  it('reads quoted paths with spaces and non-ASCII characters', () => {
    const diff = [
      'diff --git "a/dir/na\\303\\257ve file.txt" "b/dir/na\\303\\257ve file.txt"',
      'new file mode 100644',
      '--- /dev/null',
      '+++ "b/dir/na\\303\\257ve file.txt"',
      '@@ -0,0 +1 @@',
      '+hello',
    ].join('\n');

    const sut = parseUnifiedDiff(diff)[0]!;

    expect(sut).toMatchObject({ path: 'dir/naïve file.txt', status: 'added', oldPath: null });
  });

  it('reads unquoted paths with spaces from a header without ---/+++ lines', () => {
    const diff = ['diff --git a/my file.bin b/my file.bin', 'index 1..2 100644', 'Binary files differ'].join('\n');

    const sut = parseUnifiedDiff(diff)[0]!;

    expect(sut.path).toBe('my file.bin');
  });

  it('reads a plain diff -u of two files without git headers', () => {
    const diff = [
      '--- old/a.c\t2024-01-01 00:00:00',
      '+++ new/a.c\t2024-01-02 00:00:00',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      '--- old/b.c\t2024-01-01 00:00:00',
      '+++ new/b.c\t2024-01-02 00:00:00',
      '@@ -1 +1,2 @@',
      ' a',
      '+c',
    ].join('\n');

    const sut = parseUnifiedDiff(diff);

    expect(sut.map((f) => [f.path, f.additions, f.deletions])).toEqual([
      ['new/a.c', 1, 1],
      ['new/b.c', 1, 0],
    ]);
  });

  it('returns no files for text that is not a diff', () => {
    expect(parseUnifiedDiff('hello\nworld\n')).toEqual([]);
  });

  it('rebuilds the new file from git diff output for any pair of files', () => {
    fc.assert(
      fc.property(fileText, fileText, fc.integer({ min: 0, max: 3 }), (oldText, newText, context) => {
        const diff = gitDiff(oldText, newText, context);
        const files = parseUnifiedDiff(diff);
        if (oldText === newText) return files.length === 0;
        expect(files).toHaveLength(1);
        expect(applyHunks(toLines(oldText), files[0]!)).toEqual(toLines(newText));
        return true;
      }),
      { numRuns: 60 },
    );
  });
});

describe(fileFromPatch.name, () => {
  it('reads a GitHub patch fragment with its status and previous name', () => {
    const sut = fileFromPatch({
      filename: 'src/b.ts',
      previousFilename: 'src/a.ts',
      status: 'renamed',
      patch: '@@ -1,2 +1,2 @@\n-old\n+new\n same',
      additions: 1,
      deletions: 1,
    });

    expect(sut).toMatchObject({ path: 'src/b.ts', oldPath: 'src/a.ts', status: 'renamed', additions: 1, deletions: 1 });
    expect(sut.patchMissing).toBe(false);
  });

  it('flags a text file whose patch GitHub left out as too large', () => {
    const sut = fileFromPatch({ filename: 'big.sql', status: 'modified', additions: 90000, deletions: 3 });

    expect(sut).toMatchObject({ patchMissing: true, binary: false, hunks: [] });
  });

  it('treats a file without patch nor line changes as binary', () => {
    const sut = fileFromPatch({ filename: 'logo.png', status: 'added', additions: 0, deletions: 0 });

    expect(sut).toMatchObject({ binary: true, status: 'added', patchMissing: false });
  });

  it('maps GitHub "removed" to a deleted file without a new path', () => {
    const sut = fileFromPatch({ filename: 'x.go', status: 'removed', patch: '@@ -1 +0,0 @@\n-x' });

    expect(sut).toMatchObject({ status: 'deleted', newPath: null, path: 'x.go', deletions: 1 });
  });
});

describe(unquote.name, () => {
  it('decodes the path quoting git applies to tabs and non-ASCII names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kritik-quote-'));
    try {
      const name = 'tab\there ✓.txt';
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'core.quotepath=true', ...args], { cwd: dir, encoding: 'utf8' });
      git('init', '-q');
      writeFileSync(join(dir, name), 'a\n');
      git('add', '-A');
      writeFileSync(join(dir, name), 'b\n');
      const diff = git('diff');

      const sut = parseUnifiedDiff(diff)[0]!;

      expect(diff).toContain('"a/tab\\there \\342\\234\\223.txt"');
      expect(sut.path).toBe(name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(newLineText.name, () => {
  it('returns the text of a new-side line and null outside the diff', () => {
    const file = parseUnifiedDiff('--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n a\n+b\n')[0]!;

    expect([newLineText(file, 2), newLineText(file, 3)]).toEqual(['b', null]);
  });
});
