import { parseUnifiedDiff } from '../diff/diff.js';
import { DiffIndex } from '../diff/line-map.js';
import { arrangeFindings, commentBody, type RawFinding } from './findings.js';
import { extractFingerprints } from './fingerprint.js';

// src/a.ts: lines 10..14 of the new file are in one hunk; 11 and 12 are added.
const index = new DiffIndex(
  parseUnifiedDiff('--- a/src/a.ts\n+++ b/src/a.ts\n@@ -10,3 +10,5 @@\n ctx10\n+add11\n+add12\n ctx13\n ctx14\n'),
);
const finding = (over: Partial<RawFinding> = {}): RawFinding => ({
  path: 'src/a.ts',
  line: 11,
  severity: 'major',
  title: 'Problem',
  body: 'Why.',
  source: 'model',
  ...over,
});
const arrange = (findings: RawFinding[], over: Partial<Parameters<typeof arrangeFindings>[0]> = {}) =>
  arrangeFindings({ findings, index, minSeverity: 'nit', maxComments: 10, seen: new Set(), ...over });

describe(arrangeFindings.name, () => {
  it('places a finding on a diff line inline', () => {
    const sut = arrange([finding()]);

    expect(sut.findings).toEqual([expect.objectContaining({ path: 'src/a.ts', line: 11, inline: true })]);
  });

  it('sends a finding outside the diff to the summary with the reason, never dropping it', () => {
    const sut = arrange([finding({ line: 200 })]);

    expect(sut.findings).toEqual([
      expect.objectContaining({ line: 200, inline: false, summaryReason: 'line 200 is outside the diff' }),
    ]);
  });

  it('leaves out model findings below min_severity but keeps deterministic ones', () => {
    const sut = arrange([finding({ severity: 'nit' }), finding({ severity: 'nit', title: 'x', source: 'check' })], {
      minSeverity: 'major',
    });

    expect([sut.findings.map((f) => f.source), sut.belowSeverity]).toEqual([['check'], 1]);
  });

  it('posts at most max_comments inline, most severe first, and lists the rest in the summary', () => {
    const sut = arrange(
      [
        finding({ severity: 'nit', title: 'a', line: 10 }),
        finding({ severity: 'critical', title: 'b', line: 12 }),
        finding({ severity: 'minor', title: 'c', line: 13 }),
      ],
      { maxComments: 2 },
    );

    expect(sut.findings.map((f) => [f.severity, f.inline, f.summaryReason])).toEqual([
      ['critical', true, undefined],
      ['minor', true, undefined],
      ['nit', false, 'over max_comments (2)'],
    ]);
  });

  it('does not repeat a finding already posted or raised twice in one run', () => {
    const first = arrange([finding()]).findings[0]!;

    const sut = arrange([finding(), finding({ title: 'Other' }), finding({ title: 'Other' })], {
      seen: new Set([first.fingerprint]),
    });

    expect([sut.findings.map((f) => f.title), sut.duplicates]).toEqual([['Other'], 2]);
  });

  it('keeps a suggestion only when the comment covers exactly the lines it replaces', () => {
    const sut = arrange([
      finding({ line: 11, end_line: 12, suggestion: 'fixed();', title: 'a' }),
      finding({ line: 13, end_line: 40, suggestion: 'x', title: 'b' }),
    ]);

    expect(sut.findings.map((f) => [f.startLine, f.line, f.suggestion])).toEqual([
      [11, 12, 'fixed();'],
      [13, 14, undefined],
    ]);
  });

  it('sanitises titles and bodies', () => {
    const sut = arrange([finding({ title: 'Ping @admin', body: '<b>bold</b>' })]);

    expect([sut.findings[0]!.title, sut.findings[0]!.body]).toEqual(['Ping @\u200badmin', '<\u200bb>bold<\u200b/b>']);
  });
});

describe(commentBody.name, () => {
  it('carries severity, title, body, a suggestion block and the hidden fingerprint', () => {
    const f = arrange([finding({ line: 11, suggestion: 'ok();' })]).findings[0]!;

    const sut = commentBody(f);

    expect(sut).toContain('**🟠 Major: Problem**');
    expect(sut).toContain('```suggestion\nok();\n```');
    expect(extractFingerprints(sut)).toEqual([f.fingerprint]);
  });
});
