// End to end under faults: rate limits and server errors from the model, a budget that runs out,
// GitHub refusing big diffs (406) or an inline position (422), and a 400-file pull request.
import { runReview } from '../src/review/engine.js';
import { addedLines, Harness, pullFilesFromDiff, toolReply } from './harness.js';
import { loadFixture } from './load-fixture.js';

const cadvisor = pullFilesFromDiff(loadFixture('cadvisor'));
const source = cadvisor.find((f) => f.filename === 'manager/manager.go')!;
const firstAdded = addedLines(source.patch!)[0]!;

describe(`${runReview.name} under faults`, () => {
  let h: Harness;

  beforeEach(async () => {
    h = await new Harness().start();
  });

  afterEach(async () => {
    await h.stop();
  });

  it('waits out a 429 with retry-after and then posts', async () => {
    await h.repo();
    h.pullRequest([source]);
    h.anthropic.script({ error: { status: 429, headers: { 'retry-after': '1' } } }, toolReply('ok', []));

    const started = Date.now();
    const { report } = await h.review();

    expect(report.status).toBe('posted');
    expect(h.anthropic.messageRequests()).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(h.progress).toContainEqual(expect.stringContaining('retry 1/2 in 1000 ms'));
  });

  it('retries a 529 overload and a dropped connection', async () => {
    await h.repo();
    h.pullRequest([source]);
    h.anthropic.dropNext(1, 'POST /v1/messages');
    h.anthropic.script({ error: { status: 529 } }, toolReply('ok', []));

    const { report } = await h.review();

    expect(report.status).toBe('posted');
    expect(h.anthropic.requestsTo('POST /v1/messages')).toHaveLength(3);
  });

  it('fails with a clear reason and a failing check run after three 500s, posting no review', async () => {
    await h.repo();
    h.pullRequest([source]);
    h.anthropic.script(
      { error: { status: 500 } },
      { error: { status: 500 } },
      { error: { status: 500 } },
      toolReply('never', []),
    );

    const { report } = await h.review();

    expect(report).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^Anthropic API request failed after 3 attempts: 500 api_error/),
      checkConcluded: true,
    });
    expect(h.anthropic.pending).toBe(1);
    expect(h.reviews()).toEqual([]);
    expect(h.checkRuns()[0]).toMatchObject({
      status: 'completed',
      conclusion: 'failure',
      output: expect.objectContaining({ summary: report.reason }),
    });
  });

  it('posts what the first requests found when a later one keeps failing, listing the files it covered', async () => {
    await h.repo('max_input_tokens: 20000\n');
    h.pullRequest(pullFilesFromDiff(loadFixture('kubectl')));
    h.anthropic.script(
      toolReply('first part', []),
      { error: { status: 500 } },
      { error: { status: 500 } },
      { error: { status: 500 } },
    );

    const { report } = await h.review();

    expect(report.status).toBe('posted');
    expect(report.skippedFiles.some((s) => s.reason.startsWith('model request failed'))).toBe(true);
    expect(h.reviews()[0]!.body).toContain('A model request failed');
    expect(h.checkRuns()[0]).toMatchObject({ conclusion: 'success' });
  });

  it('stops sending model requests after the review deadline and says so per file', async () => {
    await h.repo();
    h.pullRequest([source]);
    let clock = 0;

    const { report } = await h.review({ deadlineMs: 1_000, now: () => (clock += 2_000) });

    expect(h.anthropic.messageRequests()).toEqual([]);
    expect(report.skippedFiles).toEqual([{ path: source.filename, reason: 'review time limit reached' }]);
  });

  it('gives up on a slow model at the review deadline and fails visibly instead of being killed', async () => {
    await h.repo();
    h.pullRequest([source]);
    h.anthropic.delayNext(8_000, 1, 'POST /v1/messages');

    const started = Date.now();
    const { report } = await h.review({ deadlineMs: 3_000 });

    expect(report).toMatchObject({ status: 'failed', reason: expect.stringContaining('request timed out') });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(h.checkRuns()[0]).toMatchObject({ conclusion: 'failure' });
  });

  it('does not retry a request the API rejects as invalid', async () => {
    await h.repo();
    h.pullRequest([source]);
    h.anthropic.script({ error: { status: 400, message: 'model: unknown model' } });

    const { report } = await h.review();

    expect(report).toMatchObject({ status: 'failed', reason: expect.stringContaining('unknown model') });
    expect(h.anthropic.messageRequests()).toHaveLength(1);
  });

  it('stops sending requests when the budget runs out midway and lists the files left out', async () => {
    await h.repo('max_input_tokens: 20000\nmax_cost_usd: 0.2\n');
    h.pullRequest(pullFilesFromDiff(loadFixture('kubectl')));
    // The first reply costs more than estimated: 80k input tokens ($0.16) and 2k output ($0.02).
    h.anthropic.script({ ...toolReply('partial', []), usage: { input_tokens: 80_000, output_tokens: 2_000 } });
    h.anthropic.setDefaultReply(toolReply('should not be asked', []));

    const { report } = await h.review();

    const over = report.skippedFiles.filter((s) => s.reason.startsWith('over budget (max_cost_usd $0.2)'));
    expect(h.anthropic.messageRequests()).toHaveLength(1);
    expect(report).toMatchObject({ status: 'posted', costUsd: expect.closeTo(0.18, 2) });
    expect(over.length).toBeGreaterThan(0);
    expect(report.costUsd).toBeLessThanOrEqual(0.2);
    expect(h.reviews()[0]!.body).toContain('over budget (max_cost_usd $0.2)');
  });

  it('never asks for more output tokens than the rest of the budget pays for', async () => {
    await h.repo('max_input_tokens: 20000\nmax_cost_usd: 0.2\n');
    h.pullRequest(pullFilesFromDiff(loadFixture('kubectl')));
    h.anthropic.setDefaultReply(toolReply('ok', []));

    const { report } = await h.review();

    expect(report.costUsd).toBeLessThanOrEqual(0.2);
    expect(h.anthropic.messageRequests().every((r) => r.max_tokens >= 1_024 && r.max_tokens <= 8_192)).toBe(true);
  });

  it('reads the per-file patches when GitHub refuses the whole diff with 406', async () => {
    await h.repo();
    h.pullRequest([source, ...cadvisor.filter((f) => f.filename.endsWith('_test.go'))], { diffTooLarge: true });
    h.anthropic.script(
      toolReply('ok', [{ path: source.filename, line: firstAdded.line, severity: 'major', title: 'T', body: 'B' }]),
    );

    const { report } = await h.review();

    expect(report).toMatchObject({ status: 'posted', commentsPosted: 1 });
    expect(
      h.github.requestsTo('GET /repos/{owner}/{repo}/pulls/{pull_number}').filter((r) => r.status === 406),
    ).toHaveLength(1);
    expect(h.github.requestsTo('GET /repos/{owner}/{repo}/pulls/{pull_number}/files')).toHaveLength(1);
    expect(h.reviews()[0]!.comments.map((c) => c.line)).toEqual([firstAdded.line]);
  });

  it('reviews a 459-file pull request page by page and accounts for every file', async () => {
    const files = pullFilesFromDiff(loadFixture('client-go'));
    await h.repo('max_cost_usd: 20\n');
    h.pullRequest(files);
    const target = files.find((f) => f.filename.endsWith('.go') && f.status === 'modified' && f.patch)!;
    const line = addedLines(target.patch!)[0]!.line;
    h.anthropic.setDefaultReply((req) => {
      const sent = JSON.stringify(req.messages);
      const mine = sent.includes(`### ${target.filename} (`);
      return toolReply(
        'ok',
        mine ? [{ path: target.filename, line, severity: 'major', title: 'Found', body: 'B' }] : [],
      );
    });

    const { report } = await h.review();

    const pages = h.github
      .requestsTo('GET /repos/{owner}/{repo}/pulls/{pull_number}/files')
      .map((r) => r.query.page ?? '1');
    expect(files.length).toBe(459);
    expect(pages).toEqual(['1', '2', '3', '4', '5']);
    expect(report.filesReviewed + report.filesSkipped).toBe(459);
    expect(report).toMatchObject({ status: 'posted', commentsPosted: 1 });
    expect(h.anthropic.messageRequests().length).toBeGreaterThan(1);
    expect(h.anthropic.messageRequests().every((r) => h.anthropic.inputTokens(r) * 4 <= 60_000 * 3 * 1.05)).toBe(true);
  });

  it('posts every finding in the summary when GitHub rejects an inline position', async () => {
    await h.repo();
    // The diff GitHub serves shows more lines than the file patches it validates comments against.
    const file = { filename: 'src/x.go', status: 'added' as const, patch: '@@ -0,0 +1,2 @@\n+package x\n+var a = 1' };
    const diff =
      'diff --git a/src/x.go b/src/x.go\nnew file mode 100644\n--- /dev/null\n+++ b/src/x.go\n@@ -0,0 +1,4 @@\n+package x\n+var a = 1\n+var b = 2\n+var c = 3\n';
    h.pullRequest([file], { diff });
    h.anthropic.script(
      toolReply('ok', [{ path: 'src/x.go', line: 4, severity: 'major', title: 'Shadowed', body: 'B' }]),
    );

    const { report } = await h.review();

    expect(report).toMatchObject({ status: 'posted', commentsPosted: 0, findings: { major: 1 } });
    expect(report.findingList).toEqual([expect.objectContaining({ line: 4, inline: false })]);
    expect(h.reviews()[0]!.body).toContain('`src/x.go:4` Shadowed _(GitHub did not accept an inline comment here)_');
  });

  it('fails with the reason when GitHub keeps answering 500', async () => {
    await h.repo();
    h.pullRequest([source]);
    h.github.failNext(3, { status: 500 }, 'GET /repos/{owner}/{repo}/pulls/{pull_number}');

    const { report } = await h.review();

    expect(report).toMatchObject({ status: 'failed', reason: 'GitHub GET pull request #7 failed (500): Server Error' });
  });
});
