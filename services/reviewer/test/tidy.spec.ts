// A tidy pull request across pushes: one summary review edited in place, new findings as new
// inline comments only, Kritik's threads on changed code answered and resolved through GitHub's
// GraphQL API, and findings still present never posted twice.
import { parseReviewMarker, SUMMARY_MARKER } from '../src/review/fingerprint.js';
import { resolvedNote } from '../src/review/pipeline/tidy.js';
import { type Finding, Harness, REPO, toolReply } from './harness.js';

const file = (lines: string[]) => ({
  filename: 'src/a.go',
  status: 'added' as const,
  patch: `@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}`,
});
const ignored: Finding = { path: 'src/a.go', line: 2, severity: 'major', title: 'Error ignored', body: 'Handle err.' };
const SECOND = 'd'.repeat(40);
const THIRD = 'e'.repeat(40);

describe('a tidy pull request', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await new Harness().start();
    await h.repo();
  });

  afterEach(async () => {
    await h.stop();
  });

  const summaries = () => h.reviews().filter((r) => r.body.includes(SUMMARY_MARKER));
  const threads = () => h.github.reviewThreads(REPO.owner, REPO.name, 7);

  async function push(sha: string, lines: string[], findings: Finding[]) {
    h.github.pushHead(REPO.owner, REPO.name, 7, sha, [file(lines)], undefined, [file(lines)]);
    h.anthropic.script(toolReply(`summary at ${sha.slice(0, 7)}`, findings));
    return h.review({ source: { headSha: sha } });
  }

  it('edits one summary across three pushes instead of posting a summary each time', async () => {
    h.pullRequest([file(['package src', 'func A() { ignore(err) }', 'var x = 1'])]);
    h.anthropic.script(toolReply('first look', [ignored]));
    await h.review();

    await push(SECOND, ['package src', 'func A() { ignore(err) }', 'var x = 2'], []);
    const third = await push(THIRD, ['package src', 'func A() { ignore(err) }', 'var x = 3'], []);

    expect(summaries()).toHaveLength(1);
    // Nothing new was found after the first push, so no other review was posted.
    expect(h.reviews()).toHaveLength(1);
    const summary = summaries()[0]!;
    expect(summary.body).toContain('summary at eeeeeee');
    expect(summary.body).not.toContain('first look');
    expect(parseReviewMarker(summary.body)?.head).toBe(THIRD);
    expect(third.report).toMatchObject({ status: 'posted', reviewUrl: summary.html_url });
    expect(h.github.requestsTo('PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}')).toHaveLength(2);
  });

  it('resolves its thread with a note when a push changes the line, and posts new findings inline only', async () => {
    h.pullRequest([file(['package src', 'func A() { ignore(err) }', 'var x = 1'])]);
    h.anthropic.script(toolReply('first look', [ignored]));
    await h.review();
    expect(threads().map((t) => [t.isResolved, t.isOutdated])).toEqual([[false, false]]);

    const fresh: Finding = { ...ignored, line: 3, title: 'Shadowed x', severity: 'minor' };
    const { report } = await push(SECOND, ['package src', 'func A() { return err }', 'var x = 2'], [fresh]);

    const [old, added] = threads();
    expect(old).toMatchObject({ isResolved: true, isOutdated: true, resolvedBy: 'kritik-test' });
    expect(old!.comments.map((c) => c.body)).toEqual([expect.any(String), resolvedNote(SECOND)]);
    expect(added).toMatchObject({ isResolved: false, path: 'src/a.go', line: 3 });
    expect(report).toMatchObject({ status: 'posted', commentsPosted: 1, threadsResolved: 1 });
    const [, second] = h.reviews();
    expect(second!.body).not.toContain(SUMMARY_MARKER);
    expect(second!.body).toContain('1 new finding(s)');
    expect(summaries()[0]!.body).toContain('1 earlier thread(s) resolved');
  });

  it('does not post again a finding still present on unchanged code, nor resolve its thread', async () => {
    h.pullRequest([file(['package src', 'func A() { ignore(err) }', 'var x = 1'])]);
    h.anthropic.script(toolReply('first look', [ignored]));
    await h.review();

    const { report } = await push(SECOND, ['package src', 'func A() { ignore(err) }', 'var x = 2'], [ignored]);

    expect(report).toMatchObject({ status: 'posted', commentsPosted: 0, threadsResolved: 0 });
    expect(h.github.reviewComments(REPO.owner, REPO.name, 7)).toHaveLength(1);
    expect(threads()[0]).toMatchObject({ isResolved: false, isOutdated: false });
  });

  it("leaves another user's outdated thread open", async () => {
    h.pullRequest([file(['package src', 'func A() { ignore(err) }', 'var x = 1'])]);
    h.anthropic.script(toolReply('first look', []));
    await h.review();
    const mallory = 'ghp_mallory_token_for_the_fake';
    h.github.addToken(mallory, { login: 'mallory' });
    // Posted through the REST API as GitHub's web UI would, with a forged Kritik marker.
    const response = await fetch(`${h.github.url}/repos/${REPO.owner}/${REPO.name}/pulls/7/reviews`, {
      method: 'POST',
      headers: { authorization: `token ${mallory}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        event: 'COMMENT',
        body: 'note',
        comments: [{ path: 'src/a.go', line: 2, side: 'RIGHT', body: '<!-- kritik:fp=0123456789abcdef -->' }],
      }),
    });
    expect(response.status).toBe(200);

    await push(SECOND, ['package src', 'func A() { return err }', 'var x = 2'], []);

    expect(threads()).toEqual([expect.objectContaining({ isOutdated: true, isResolved: false })]);
  });
});
