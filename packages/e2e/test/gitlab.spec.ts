// GitLab merge requests end to end on the platform as the chart installs it (gitlab.enabled, the
// token and webhook secret from gitlab.existingSecret): hook, queue, worker, review Job run by the
// test kubelet, discussions and the `kritik` commit status on the GitLab fake, the record posted;
// and the GitHub guarantees on GitLab: dedupe, coalescing, 401, failures that end visibly.
import { reviewIdFor, reviewJobName } from '@kritik/core';
import {
  CHANGED_FILE,
  findingsReply,
  GITLAB_PROJECT,
  gitlabDelivery,
  type MergeRequestRef,
  mergeRequestHook,
  noteHook,
  Platform,
  stormThenFindings,
} from '@kritik/e2e';
import { waitUntil } from '@kritik/testing';

jest.setTimeout(300_000);

const MR = 'Merge Request Hook';
const NOTE = 'Note Hook';
const MESSAGES = 'POST /v1/messages';

describe('Kritik on GitLab end to end', () => {
  let sut: Platform;

  beforeAll(async () => {
    sut = await Platform.start({ gitlab: true });
  });
  afterAll(async () => {
    await sut?.stop();
  });
  beforeEach(() => {
    sut.anthropic.resetTraffic();
    sut.anthropic.setDefaultReply(findingsReply());
    sut.gitlabWorld!.gitlab.resetTraffic();
  });

  const gl = () => sut.gitlabWorld!;
  const outcome = (record: { status: string; reason?: string }) => ({ status: record.status, reason: record.reason });

  /** Kritik's note on the merge request whose hidden marker starts with `marker`, once it is there. */
  const noteMarked = (mr: MergeRequestRef, marker: string) =>
    waitUntil(
      `the note marked ${marker}`,
      async () =>
        gl()
          .notes(mr)
          .find((n) => n.body.includes(`<!-- ${marker}`)),
      { timeoutMs: 30_000, intervalMs: 100 },
    );

  async function openAndDeliver() {
    const mr = gl().openMergeRequest();
    const answer = await sut.gitlabWebhook(gitlabDelivery(MR, mergeRequestHook('open', mr)));
    expect(answer).toMatchObject({ status: 202, body: { status: 'queued', reviewId: expect.any(String) } });
    return { mr, reviewId: answer.body.reviewId as string };
  }

  it('reviews an opened merge request through a Job: discussions, summary note, kritik status, record posted', async () => {
    const { mr, reviewId } = await openAndDeliver();

    const record = await sut.waitForReview(reviewId);

    expect(outcome(record)).toEqual({ status: 'posted', reason: undefined });
    expect(record.timeline.map((t) => t.status)).toEqual(['queued', 'running', 'posted']);
    const discussions = gl().discussions(mr);
    expect(discussions).toHaveLength(1);
    expect(discussions[0]!.notes[0]).toMatchObject({
      type: 'DiffNote',
      author: { username: 'project_9_bot_kritik' },
      position: { new_path: CHANGED_FILE, new_line: 2, head_sha: mr.headSha, base_sha: mr.baseSha },
    });
    const statuses = gl().statuses(mr);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({ status: 'success' });
    // The worker set it pending at acceptance; the reviewer ran and concluded that same status.
    const posted = gl()
      .gitlab.requestsTo('POST /api/v4/projects/{id}/statuses/{sha}')
      .map((r) => (r.body as { state: string }).state);
    expect(posted[0]).toBe('pending');
    expect(posted.at(-1)).toBe('success');
    expect(sut.recorder.jobCreations.get(reviewJobName(reviewId))).toBe(1);
  });

  it('answers a redelivery with 200 and reviews once', async () => {
    const mr = gl().openMergeRequest();
    const d = gitlabDelivery(MR, mergeRequestHook('open', mr));

    const first = await sut.gitlabWebhook(d);
    const retry = await sut.gitlabWebhook({ ...d, eventUuid: 'a-new-uuid-on-retry' });

    expect(retry).toMatchObject({ status: 200, body: { status: 'duplicate', accepted: first.body.reviewId } });
    await sut.waitForReview(first.body.reviewId as string);
    expect(gl().discussions(mr)).toHaveLength(1);
  });

  it('turns three quick pushes into one review of the last head', async () => {
    let mr = gl().openMergeRequest();
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const before = mr.headSha;
      mr = gl().push(mr, n);
      const answer = await sut.gitlabWebhook(gitlabDelivery(MR, mergeRequestHook('update', mr, { oldrev: before })));
      ids.push(answer.body.reviewId as string);
    }

    const records = await Promise.all(ids.map((id) => sut.waitForReview(id)));

    expect(records.map((r) => r.status)).toEqual(['skipped', 'skipped', 'posted']);
    expect(records[2]!.headSha).toBe(mr.headSha);
    expect(
      gl()
        .discussions(mr)
        .flatMap((d) => d.notes.map((n) => n.position?.head_sha)),
    ).toEqual([mr.headSha]);
  });

  it('answers `@kritik help` with one note on the merge request, and `@kritik review` with a review of its own', async () => {
    const { mr, reviewId } = await openAndDeliver();
    await sut.waitForReview(reviewId);

    const help = await sut.gitlabWebhook(gitlabDelivery(NOTE, noteHook(mr, '@kritik help', 501)));
    expect(help).toMatchObject({ status: 202, body: { status: 'queued', command: 'help' } });
    const reply = await noteMarked(mr, 'kritik:help');
    expect(reply.author.username).toBe('project_9_bot_kritik');

    const again = await sut.gitlabWebhook(gitlabDelivery(NOTE, noteHook(mr, 'please @kritik review', 502)));
    const record = await sut.waitForReview(again.body.reviewId as string);
    // A review of its own, of the head already reviewed: it ends visibly, saying so.
    expect(record).toMatchObject({ status: 'skipped', trigger: 'comment', headSha: mr.headSha });
    expect(record.reason).toMatch(/already reviewed/);
    expect(
      gl()
        .notes(mr)
        .filter((n) => n.body.includes('<!-- kritik:help')),
    ).toHaveLength(1);
  });

  it("honours a Developer's and a Maintainer's `@kritik full review` and answers a Guest's with a refusal", async () => {
    const { mr, reviewId } = await openAndDeliver();
    await sut.waitForReview(reviewId);
    const { gitlab } = gl();
    // Dana is a Developer of the project, Mo a Maintainer through the project's group, Gil a Guest.
    gitlab.addMember(GITLAB_PROJECT, 'dev-dana', 30).addMember(GITLAB_PROJECT, 'guest-gil', 10);
    gitlab.addGroup('acme', ['maint-mo'], 40);
    const repo = { owner: 'acme/platform', name: 'web' };
    const fullReview = async (username: string, noteId: number) => {
      const key = `full-review-${username}-${mr.iid}`;
      const note = noteHook(mr, '@kritik full review', noteId, username, gitlab.userId(username));
      const answer = await sut.gitlabWebhook(gitlabDelivery(NOTE, note, key));
      // The hook carries no role: the worker asks GitLab before anything is reviewed.
      expect(answer).toMatchObject({ status: 202, body: { status: 'queued', command: 'full-review' } });
      // The worker names the review by the delivery, which the backend prefixes with its source.
      return reviewIdFor('gitlab', repo, mr.iid, mr.headSha, `gitlab-${key}`);
    };

    for (const [username, noteId] of [
      ['dev-dana', 601],
      ['maint-mo', 602],
    ] as const) {
      const record = await sut.waitForReview(await fullReview(username, noteId));
      // A full review of a reviewed head is reviewed again, in full.
      expect(record).toMatchObject({ status: 'posted', trigger: 'full_review', headSha: mr.headSha });
    }

    const refused = await fullReview('guest-gil', 603);
    const reply = await noteMarked(mr, 'kritik:refused');
    expect(reply.body).toMatch(/guest-gil is Guest/);
    expect(reply.author.username).toBe('project_9_bot_kritik');
    expect((await sut.apiReview(refused)).status).toBe(404);
    expect(sut.recorder.jobCreations.get(reviewJobName(refused))).toBeUndefined();
  });

  it('refuses a delivery with a wrong token with 401 and queues nothing', async () => {
    const mr = gl().openMergeRequest();
    const answer = await sut.gitlabWebhook(gitlabDelivery(MR, mergeRequestHook('open', mr)), 'not-the-secret');
    expect(answer).toMatchObject({ status: 401, body: { error: 'missing or invalid X-Gitlab-Token' } });
    expect(gl().statuses(mr)).toEqual([]);
  });

  it('posts the review once an Anthropic 429 storm has passed', async () => {
    sut.anthropic.setDefaultReply(stormThenFindings());

    const { mr, reviewId } = await openAndDeliver();

    expect(outcome(await sut.waitForReview(reviewId))).toEqual({ status: 'posted', reason: undefined });
    expect(sut.anthropic.requestsTo(MESSAGES).filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(gl().statuses(mr)).toMatchObject([{ status: 'success' }]);
  });

  it('fails the review visibly on the merge request when the model is down', async () => {
    sut.anthropic.setDefaultReply({ error: { status: 500 } });

    const { mr, reviewId } = await openAndDeliver();

    const record = await sut.waitForReview(reviewId);
    expect(record.status).toBe('failed');
    expect(record.reason).toMatch(/Anthropic|model/i);
    expect(gl().statuses(mr)).toMatchObject([{ status: 'failed' }]);
    expect(gl().discussions(mr)).toEqual([]);
  });

  it('fails the review visibly when GitLab rate-limits every call of the review', async () => {
    const mr = gl().openMergeRequest();
    const answer = await sut.gitlabWebhook(gitlabDelivery(MR, mergeRequestHook('open', mr)));
    // From the worker's pending status on, GitLab answers the diffs 429 until the reviewer gives up.
    gl().gitlab.rateLimitNext(1_000, 1, 'GET /api/v4/projects/{id}/merge_requests/{iid}/diffs');

    const record = await sut.waitForReview(answer.body.reviewId as string);

    expect(record.status).toBe('failed');
    expect(gl().statuses(mr)).toMatchObject([{ status: 'failed' }]);
    const diffs = gl().gitlab.requestsTo('GET /api/v4/projects/{id}/merge_requests/{iid}/diffs');
    expect(diffs.length).toBeGreaterThan(1);
    expect(diffs.every((r) => r.status === 429)).toBe(true);
    gl().gitlab.resetTraffic();
  });
});
