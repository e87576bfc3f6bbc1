// The GitLab fake, reached through @gitbeaker/rest (the client the reviewer uses) and plain fetch.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Gitlab } from '@gitbeaker/rest';
import { COMMIT_STATUS_NAME, commitStatusText, concludeCommitStatus, setCommitStatus } from '@kritik/core';
import { extract } from 'tar-stream';
import { FakeGitLab } from '../src/fakes/index.js';

const PROJECT = 'acme/platform/api';
const BASE = 'b'.repeat(40);
const HEAD = 'c'.repeat(40);
// New side: 1 context, 2-3 added, 4 context; old side: 1 context, 2 removed, 3 context.
const DIFF = '@@ -1,3 +1,4 @@\n line1\n-old2\n+new2\n+new3\n line3\n';

async function failure(promise: Promise<unknown>): Promise<{ message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as { cause?: { response?: Response } }).cause;
    return { message: (error as Error).message, status: cause?.response?.status };
  }
  throw new Error('expected the call to fail');
}

async function tarNames(archive: Buffer): Promise<string[]> {
  const names: string[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve) => ex.on('finish', () => resolve()));
  ex.on('entry', (header, stream, next) => {
    names.push(header.name);
    stream.on('end', () => next());
    stream.resume();
  });
  ex.end(gunzipSync(archive));
  await done;
  return names;
}

describe(FakeGitLab.name, () => {
  let sut: FakeGitLab;
  let api: InstanceType<typeof Gitlab>;

  beforeEach(async () => {
    sut = await new FakeGitLab().start();
    api = new Gitlab({ host: sut.url, token: sut.token });
    sut.addProject(PROJECT, {
      files: { main: { '.kritik.yaml': 'max_comments: 5\n' }, feature: { 'src/a.ts': 'export const a = 1;\n' } },
    });
    sut.addMergeRequest({
      project: PROJECT,
      iid: 12,
      title: 'Add thing',
      sourceBranch: 'feature',
      baseSha: BASE,
      headSha: HEAD,
      diffs: [{ new_path: 'src/a.ts', diff: DIFF }],
    });
  });
  afterEach(() => sut.stop());

  const position = (lines: { new_line?: number; old_line?: number }, path = 'src/a.ts') => ({
    baseSha: BASE,
    startSha: BASE,
    headSha: HEAD,
    positionType: 'text' as const,
    newPath: path,
    oldPath: path,
    ...(lines.new_line !== undefined ? { newLine: String(lines.new_line) } : {}),
    ...(lines.old_line !== undefined ? { oldLine: String(lines.old_line) } : {}),
  });

  it('finds a project of nested groups by its URL-encoded path and by its id', async () => {
    const byPath = await api.Projects.show(PROJECT);
    const byId = await api.Projects.show(byPath.id);

    expect(byPath.path_with_namespace).toBe(PROJECT);
    expect(byId.path_with_namespace).toBe(PROJECT);
    expect(sut.requests[0]?.path).toBe('/api/v4/projects/acme%2Fplatform%2Fapi');
  });

  it('returns a merge request with its diff_refs, head sha and web_url', async () => {
    const mr = await api.MergeRequests.show(PROJECT, 12);

    expect(mr).toMatchObject({
      iid: 12,
      sha: HEAD,
      draft: false,
      target_branch: 'main',
      diff_refs: { base_sha: BASE, start_sha: BASE, head_sha: HEAD },
      web_url: `https://gitlab.example.com/${PROJECT}/-/merge_requests/12`,
    });
  });

  it('pages 45 diffs with x-next-page and Link headers that gitbeaker follows', async () => {
    const diffs = Array.from({ length: 45 }, (_, i) => ({ new_path: `src/f${i}.ts`, diff: '@@ -0,0 +1 @@\n+x\n' }));
    sut.addMergeRequest({ project: PROJECT, iid: 13, baseSha: BASE, headSha: 'd'.repeat(40), diffs });

    const all = await api.MergeRequests.allDiffs(PROJECT, 13, { perPage: 20 });
    const first = sut.requestsTo('GET /api/v4/projects/{id}/merge_requests/13/diffs')[0]!;
    const page = await fetch(
      `${sut.apiUrl}/projects/${encodeURIComponent(PROJECT)}/merge_requests/13/diffs?per_page=20`,
      {
        headers: { 'private-token': sut.token },
      },
    );

    expect(all.map((d) => d.new_path)).toEqual(diffs.map((d) => d.new_path));
    expect(first.query.per_page).toBe('20');
    expect(page.headers.get('x-next-page')).toBe('2');
    expect(page.headers.get('x-total-pages')).toBe('3');
    expect(page.headers.get('link')).toContain('rel="next"');
  });

  it('serves a raw file at a ref and 404 for one missing there', async () => {
    const text = await api.RepositoryFiles.showRaw(PROJECT, '.kritik.yaml', 'main');
    const missing = await failure(api.RepositoryFiles.showRaw(PROJECT, '.kritik.yaml', 'feature'));

    expect(text).toBe('max_comments: 5\n');
    expect(missing.status).toBe(404);
    expect(missing.message).toBe('404 File Not Found');
  });

  it('serves the archive of a head sha, topped by project-sha-sha', async () => {
    const response = await fetch(
      `${sut.apiUrl}/projects/${encodeURIComponent(PROJECT)}/repository/archive.tar.gz?sha=${HEAD}`,
      { headers: { authorization: `Bearer ${sut.token}` } },
    );

    expect(response.status).toBe(200);
    expect(await tarNames(Buffer.from(await response.arrayBuffer()))).toEqual([`api-${HEAD}-${HEAD}/src/a.ts`]);
  });

  it('creates a discussion on an added line with a text position', async () => {
    const discussion = await api.MergeRequestDiscussions.create(PROJECT, 12, 'Bug here', {
      position: position({ new_line: 2 }),
    });

    expect(discussion.notes?.[0]).toMatchObject({ type: 'DiffNote', body: 'Bug here' });
    expect(sut.discussions(PROJECT, 12)[0]?.notes[0]?.position).toMatchObject({ new_line: 2, old_line: null });
  });

  it('takes a context line with both old_line and new_line', async () => {
    await api.MergeRequestDiscussions.create(PROJECT, 12, 'Context', {
      position: position({ new_line: 4, old_line: 3 }),
    });

    expect(sut.discussions(PROJECT, 12)).toHaveLength(1);
  });

  it.each([
    ['a line outside the diff', { new_line: 40 }, 'src/a.ts'],
    ['a context line given by new_line alone', { new_line: 4 }, 'src/a.ts'],
    ['a path not in the diff', { new_line: 2 }, 'src/other.ts'],
  ])('refuses a position on %s with 400 and GitLab error body', async (_name, lines, path) => {
    const refused = await failure(
      api.MergeRequestDiscussions.create(PROJECT, 12, 'x', { position: position(lines, path) }),
    );

    expect(refused.status).toBe(400);
    expect(refused.message).toContain('must be a valid line code');
    expect(sut.discussions(PROJECT, 12)).toHaveLength(0);
  });

  it('replies in a diff discussion, resolves it, shows a note and lists its award emoji, as GitLab', async () => {
    const discussion = await api.MergeRequestDiscussions.create(PROJECT, 12, 'Bug here', {
      position: position({ new_line: 2 }),
    });
    const root = discussion.notes![0]!;

    const reply = await api.MergeRequestDiscussions.addNote(PROJECT, 12, discussion.id, 'Why?');
    await api.MergeRequestNoteAwardEmojis.award(PROJECT, 12, root.id, 'thumbsdown');
    await api.MergeRequestDiscussions.resolve(PROJECT, 12, discussion.id, true);
    const shown = await api.MergeRequestNotes.show(PROJECT, 12, reply.id);
    const awards = await api.MergeRequestNoteAwardEmojis.all(PROJECT, 12, root.id);

    expect(reply).toMatchObject({ type: 'DiffNote', body: 'Why?', resolvable: true });
    expect(sut.discussions(PROJECT, 12)[0]!.notes.map((n) => [n.resolved, n.resolved_by?.username])).toEqual([
      [true, sut.user],
      [true, sut.user],
    ]);
    expect(shown).toMatchObject({ id: reply.id, body: 'Why?' });
    expect(awards.map((a) => [a.name, a.user.username])).toEqual([['thumbsdown', sut.user]]);
  });

  it('makes a note on its own a thread when it gets a reply, as GitLab does', async () => {
    await api.MergeRequestNotes.create(PROJECT, 12, '@kritik ask why?');
    const plain = (await api.MergeRequestDiscussions.all(PROJECT, 12))[0]!;

    const reply = await api.MergeRequestDiscussions.addNote(PROJECT, 12, plain.id, 'Because.');

    expect(reply).toMatchObject({ type: 'DiscussionNote', body: 'Because.', resolvable: false });
    const [thread] = await api.MergeRequestDiscussions.all(PROJECT, 12);
    expect(thread).toMatchObject({ id: plain.id, individual_note: false });
    expect(sut.discussions(PROJECT, 12)[0]!.notes.map((n) => [n.type, n.body])).toEqual([
      ['DiscussionNote', '@kritik ask why?'],
      ['DiscussionNote', 'Because.'],
    ]);
  });

  describe('a discussion on a line range', () => {
    const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
    const code = (old: number, line: number) => `${sha1('src/a.ts')}_${old}_${line}`;
    const range = (start: object, end: object) => ({ ...position({ new_line: 3 }), lineRange: { start, end } });

    it('places it with line codes of the new side, as GitLab, and gives the range back', async () => {
      // new2 and new3 are added where the old side's counter stands at 3 (after line1 and old2).
      const start = { lineCode: code(3, 2), type: 'new' };
      const end = { lineCode: code(3, 3), type: 'new' };

      const discussion = await api.MergeRequestDiscussions.create(PROJECT, 12, 'range', {
        position: range(start, end) as never,
      });

      expect(discussion.notes![0]!.position).toMatchObject({
        new_line: 3,
        line_range: {
          start: { line_code: code(3, 2), type: 'new', old_line: null, new_line: 2 },
          end: { line_code: code(3, 3), type: 'new', old_line: null, new_line: 3 },
        },
      });
    });

    it.each([
      [
        'a line code of another path',
        { lineCode: `${sha1('src/b.ts')}_3_2`, type: 'new' },
        { lineCode: code(3, 3), type: 'new' },
      ],
      ['a line outside the diff', { lineCode: code(40, 40), type: 'new' }, { lineCode: code(3, 3), type: 'new' }],
      [
        'an old counter that is not the line',
        { lineCode: code(1, 2), type: 'new' },
        { lineCode: code(3, 3), type: 'new' },
      ],
      ['a start after the end', { lineCode: code(3, 3), type: 'new' }, { lineCode: code(3, 2), type: 'new' }],
      ['a context line typed new', { lineCode: code(1, 1), type: 'new' }, { lineCode: code(3, 3), type: 'new' }],
      ['a hostile line code', { lineCode: '../../x_1_1', type: 'new' }, { lineCode: code(3, 3), type: 'new' }],
    ])('answers 400 for %s', async (_what, start, end) => {
      const error = await failure(
        api.MergeRequestDiscussions.create(PROJECT, 12, 'range', { position: range(start, end) as never }),
      );

      expect(error.status).toBe(400);
      expect(sut.discussions(PROJECT, 12)).toEqual([]);
    });
  });

  it('serves the labels of a merge request as a list of names', async () => {
    sut.setLabels(PROJECT, 12, ['review::needed', 'backend']);

    const mr = await api.MergeRequests.show(PROJECT, 12);

    expect(mr.labels).toEqual(['review::needed', 'backend']);
  });

  it('answers 404 for an unknown discussion or note and 400 to resolve a plain note', async () => {
    const note = await api.MergeRequestNotes.create(PROJECT, 12, 'Summary');
    const plain = (await api.MergeRequestDiscussions.all(PROJECT, 12))[0]!;

    expect((await failure(api.MergeRequestDiscussions.addNote(PROJECT, 12, 'f'.repeat(40), 'x'))).status).toBe(404);
    expect((await failure(api.MergeRequestDiscussions.resolve(PROJECT, 12, 'f'.repeat(40), true))).status).toBe(404);
    expect((await failure(api.MergeRequestNotes.show(PROJECT, 12, note.id + 999))).status).toBe(404);
    expect((await failure(api.MergeRequestNoteAwardEmojis.all(PROJECT, 12, note.id + 999))).status).toBe(404);
    expect((await failure(api.MergeRequestDiscussions.resolve(PROJECT, 12, plain.id, true))).status).toBe(400);
  });

  it('lists notes and discussions of a merge request, the note included', async () => {
    await api.MergeRequestNotes.create(PROJECT, 12, 'Summary');

    const notes = await api.MergeRequestNotes.all(PROJECT, 12);
    const discussions = await api.MergeRequestDiscussions.all(PROJECT, 12);

    expect(notes.map((n) => n.body)).toEqual(['Summary']);
    expect(discussions[0]).toMatchObject({ individual_note: true });
    expect(sut.summaryNotes(PROJECT, 12)[0]?.author.username).toBe(sut.user);
  });

  it("edits a note's body in place for its author only, and answers 404 for an unknown note", async () => {
    const note = await api.MergeRequestNotes.create(PROJECT, 12, 'Summary v1');
    sut.addToken('someone-else', { username: 'mallory' });
    const other = new Gitlab({ host: sut.url, token: 'someone-else' });

    const edited = await api.MergeRequestNotes.edit(PROJECT, 12, note.id, { body: 'Summary v2' });
    const refused = await failure(other.MergeRequestNotes.edit(PROJECT, 12, note.id, { body: 'hijacked' }));
    const missing = await failure(api.MergeRequestNotes.edit(PROJECT, 12, note.id + 999, { body: 'x' }));

    expect(edited).toMatchObject({ id: note.id, body: 'Summary v2' });
    expect(refused.status).toBe(403);
    expect(missing.status).toBe(404);
    expect(sut.summaryNotes(PROJECT, 12).map((n) => [n.id, n.body])).toEqual([[note.id, 'Summary v2']]);
  });

  it('moves a commit status pending → running → success and refuses running → pending', async () => {
    await api.Commits.editStatus(PROJECT, HEAD, 'pending', { name: 'kritik', description: 'queued' });
    await api.Commits.editStatus(PROJECT, HEAD, 'running', { name: 'kritik' });
    const back = await failure(api.Commits.editStatus(PROJECT, HEAD, 'pending', { name: 'kritik' }));
    await api.Commits.editStatus(PROJECT, HEAD, 'success', {
      name: 'kritik',
      targetUrl: 'https://gitlab.example.com/x',
    });

    const listed = await api.Commits.allStatuses(PROJECT, HEAD, { name: 'kritik' });

    expect(back.status).toBe(400);
    expect(back.message).toContain('Cannot transition status via :enqueue from :running');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ status: 'success', ref: 'feature', target_url: 'https://gitlab.example.com/x' });
  });

  it('answers 404 for a status on an unknown commit', async () => {
    const refused = await failure(api.Commits.editStatus(PROJECT, 'e'.repeat(40), 'pending', { name: 'kritik' }));

    expect(refused.status).toBe(404);
  });

  it('compares two pushed heads and names their merge base', async () => {
    const next = 'd'.repeat(40);
    sut.pushHead(PROJECT, 12, next, [{ new_path: 'src/b.ts', new_file: true, diff: '@@ -0,0 +1 @@\n+b\n' }]);

    const compared = await api.Repositories.compare(PROJECT, HEAD, next);
    const base = await api.Repositories.mergeBase(PROJECT, [HEAD, next]);

    expect((compared.diffs as { new_path: string }[]).map((d) => d.new_path)).toEqual(['src/b.ts']);
    expect(base.id).toBe(HEAD);
    expect((await api.MergeRequests.show(PROJECT, 12)).sha).toBe(next);
  });

  it('answers 401 to a bad token, by PRIVATE-TOKEN and by Bearer', async () => {
    const bad = new Gitlab({ host: sut.url, token: 'glpat-wrong' });
    const refused = await failure(bad.MergeRequests.show(PROJECT, 12));
    const bearer = await fetch(`${sut.apiUrl}/user`, { headers: { authorization: 'Bearer nope' } });

    expect(refused.status).toBe(401);
    expect(refused.message).toBe('401 Unauthorized');
    expect(bearer.status).toBe(401);
  });

  it('hides a project the token does not reach behind 404', async () => {
    sut.addToken('glpat-other', { projects: ['acme/other'] });
    const other = new Gitlab({ host: sut.url, token: 'glpat-other' });

    expect((await failure(other.Projects.show(PROJECT))).status).toBe(404);
  });

  it('answers an armed 429 with Retry-After on its route only', async () => {
    sut.rateLimitNext(1, 7, 'GET /api/v4/projects/{id}/merge_requests/{iid}');
    const url = `${sut.apiUrl}/projects/${encodeURIComponent(PROJECT)}/merge_requests/12`;

    const other = await fetch(`${sut.apiUrl}/user`, { headers: { 'private-token': sut.token } });
    const limited = await fetch(url, { headers: { 'private-token': sut.token } });
    const after = await fetch(url, { headers: { 'private-token': sut.token } });

    expect(other.status).toBe(200);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.text()).toBe('Retry later\n');
    expect(after.status).toBe(200);
  });
});

describe('commit status wire calls on the GitLab fake', () => {
  let fake: FakeGitLab;
  const repo = { owner: 'acme/platform', name: 'api' };
  beforeEach(async () => {
    fake = await new FakeGitLab().start();
    fake.addProject(PROJECT).addMergeRequest({ project: PROJECT, iid: 1, baseSha: BASE, headSha: HEAD });
  });
  afterEach(() => fake.stop());

  it('sets the kritik status pending, then concludes it failed with the reason', async () => {
    const gl = fake.requester();
    await setCommitStatus(gl, repo, HEAD, { state: 'pending', description: commitStatusText.queued(HEAD) });

    const concluded = await concludeCommitStatus(gl, repo, HEAD, 'failure', 'the review Job timed out');

    expect(concluded.action).toBe('updated');
    expect(fake.statuses(PROJECT, HEAD)).toEqual([
      expect.objectContaining({
        name: COMMIT_STATUS_NAME,
        status: 'failed',
        description: 'Kritik review failed: the review Job timed out',
      }),
    ]);
  });

  it('keeps a status the reviewer already finished', async () => {
    const gl = fake.requester();
    await setCommitStatus(gl, repo, HEAD, { state: 'success', description: 'No findings' });

    const concluded = await concludeCommitStatus(gl, repo, HEAD, 'failure', 'late');

    expect(concluded.action).toBe('already-completed');
    expect(fake.statuses(PROJECT, HEAD).map((s) => s.status)).toEqual(['success']);
  });

  it('creates the status finished when none exists', async () => {
    await concludeCommitStatus(fake.requester(), repo, HEAD, 'cancelled', 'superseded');

    expect(fake.statuses(PROJECT, HEAD).map((s) => s.status)).toEqual(['canceled']);
  });
});
