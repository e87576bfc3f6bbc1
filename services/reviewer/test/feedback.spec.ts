// Feedback a review picks up from the pull request: a 👎 on Kritik's finding or its thread resolved
// by a person while the code stayed (won't fix) is reported as a dismissal with a short rule; what
// the repository learned before is not raised again and is carried in the prompt and the footer.
import { extractFingerprints } from '../src/review/fingerprint.js';
import { type Finding, Harness, REPO, toolReply } from './harness.js';

const file = (last: string) => ({
  filename: 'src/a.go',
  status: 'added' as const,
  patch: `@@ -0,0 +1,3 @@\n+package src\n+func A() { ignore(err) }\n+${last}`,
});
const FINDING: Finding = { path: 'src/a.go', line: 2, severity: 'major', title: 'Error ignored', body: 'Handle err.' };
const SECOND = 'd'.repeat(40);

describe('feedback from the pull request', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await new Harness().start();
    await h.repo();
    h.pullRequest([file('var x = 1')]);
    h.anthropic.script(toolReply('first', [FINDING]));
    await h.review();
  });

  afterEach(async () => {
    await h.stop();
  });

  const finding = () => h.github.reviewComments(REPO.owner, REPO.name, 7)[0]!;

  /** The pull request's author, through GitHub's APIs as the web page uses them. */
  async function asAuthor(path: string, body: unknown): Promise<Response> {
    return fetch(`${h.github.url}${path}`, {
      method: 'POST',
      headers: { authorization: `token ${h.github.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function push() {
    h.github.pushHead(REPO.owner, REPO.name, 7, SECOND, [file('var x = 2')], undefined, [file('var x = 2')]);
    h.anthropic.script(toolReply('second', []));
    return h.review({ source: { headSha: SECOND } });
  }

  it('reports a finding with a 👎 as dismissed, with its rule', async () => {
    const reacted = await asAuthor(`/repos/${REPO.owner}/${REPO.name}/pulls/comments/${finding().id}/reactions`, {
      content: '-1',
    });
    expect(reacted.status).toBe(201);

    const { report } = await push();

    expect(report.dismissed).toEqual([
      { fingerprint: extractFingerprints(finding().body)[0], rule: 'Error ignored (in src/a.go)', via: 'reaction' },
    ]);
  });

  it('reports a thread a person resolved while its code stayed as dismissed (won’t fix)', async () => {
    const [thread] = h.github.reviewThreads(REPO.owner, REPO.name, 7);
    const resolved = await asAuthor('/graphql', {
      query: 'mutation($threadId: ID!) { resolveReviewThread(input: { threadId: $threadId }) { thread { id } } }',
      variables: { threadId: thread!.id },
    });
    expect(resolved.status).toBe(200);

    const { report } = await push();

    expect(report.dismissed).toEqual([expect.objectContaining({ via: 'resolved' })]);
    expect(report.threadsResolved).toBe(0);
  });

  it('does not report a dismissal the repository already learned', async () => {
    await asAuthor(`/repos/${REPO.owner}/${REPO.name}/pulls/comments/${finding().id}/reactions`, { content: '-1' });
    const fp = extractFingerprints(finding().body)[0]!;
    h.github.pushHead(REPO.owner, REPO.name, 7, SECOND, [file('var x = 2')], undefined, [file('var x = 2')]);
    h.anthropic.script(toolReply('second', []));

    const { report } = await h.review({
      source: { headSha: SECOND, learned: { fingerprints: [fp], rules: ['Error ignored (in src/a.go)'] } },
    });

    expect(report.dismissed).toBeUndefined();
  });
});

describe('what a repository learned', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await new Harness().start();
    await h.repo();
  });

  afterEach(async () => {
    await h.stop();
  });

  it('is not raised again on another pull request, and the prompt and the footer carry the rules', async () => {
    // The fingerprint the finding gets, from a first pull request.
    h.pullRequest([file('var x = 1')], { number: 7 });
    h.anthropic.script(toolReply('first', [FINDING]));
    await h.review();
    const fp = extractFingerprints(h.github.reviewComments(REPO.owner, REPO.name, 7)[0]!.body)[0]!;
    const rules = ['Error ignored (in src/a.go) — we log it upstream', '<script>alert(1)</script> **bold** rule'];
    h.pullRequest([file('var x = 1')], { number: 8 });
    h.anthropic.script(toolReply('again', [FINDING]));

    const { report } = await h.review({ source: { pr: 8, learned: { fingerprints: [fp], rules } } });

    expect(report).toMatchObject({ status: 'posted', commentsPosted: 0 });
    const prompt = JSON.stringify(h.anthropic.messageRequests().at(-1)!.messages);
    expect(prompt).toContain('we log it upstream');
    expect(prompt).toContain('dismissed_by_this_team');
    const summary = h.github.reviews(REPO.owner, REPO.name, 8)[0]!.body;
    expect(summary).toContain('Learned rules applied (2)');
    expect(summary).not.toContain('<script>');
  });
});
