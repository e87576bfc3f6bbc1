// The GitHub and Anthropic fakes, reached through the real SDKs the product uses.
import Anthropic from '@anthropic-ai/sdk';
import { App } from '@octokit/app';
import { Octokit } from '@octokit/rest';
import { estimateTokens, FakeAnthropic, FakeGitHub, generateAppKeyPair } from '../src/fakes/index.js';

const MODEL = 'claude-sonnet-4-6';
const REVIEW_TOOL = {
  name: 'submit_review',
  description: 'Submit the review',
  input_schema: { type: 'object' as const, properties: { summary: { type: 'string' } }, required: ['summary'] },
};
// RIGHT side lines 1-4 (context 1, added 2-3, context 4); LEFT side lines 1-3.
const PATCH = '@@ -1,3 +1,4 @@\n line1\n-old2\n+new2\n+new3\n line3';

async function rejection(promise: Promise<unknown>): Promise<{ status?: number; response?: { data: unknown } }> {
  try {
    await promise;
  } catch (error) {
    return error as { status?: number; response?: { data: unknown } };
  }
  throw new Error('expected the call to fail');
}

describe(FakeAnthropic.name, () => {
  let sut: FakeAnthropic;
  let client: Anthropic;

  beforeEach(async () => {
    sut = await new FakeAnthropic({ apiKey: 'sk-test' }).start();
    client = new Anthropic({ apiKey: 'sk-test', baseURL: sut.url, maxRetries: 0 });
  });
  afterEach(() => sut.stop());

  it('answers a Messages call with the scripted tool_use forced by tool_choice', async () => {
    sut.script(FakeAnthropic.toolUse('submit_review', { summary: 'Looks fine' }));

    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools: [REVIEW_TOOL],
      tool_choice: { type: 'tool', name: 'submit_review' },
      messages: [{ role: 'user', content: 'Review this diff' }],
    });

    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'submit_review', input: { summary: 'Looks fine' } }],
    });
    expect(sut.messageRequests()[0]?.tool_choice).toEqual({ type: 'tool', name: 'submit_review' });
  });

  it('gets a 429 with retry-after retried by the SDK, which then succeeds', async () => {
    const retrying = new Anthropic({ apiKey: 'sk-test', baseURL: sut.url, maxRetries: 2 });
    sut.failNext(1, { status: 429, headers: { 'retry-after': '1' } }, 'POST /v1/messages');
    sut.script(FakeAnthropic.text('done'));
    const started = Date.now();

    const message = await retrying.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(message.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(sut.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('answers an injected 529 in the API error format with a request id', async () => {
    sut.failNext(1, { status: 529 });

    const error = (await rejection(
      client.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    )) as InstanceType<typeof Anthropic.APIError>;

    expect(error.status).toBe(529);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(error.requestID).toMatch(/^req_/);
  });

  it('rejects a wrong x-api-key with authentication_error', async () => {
    const stranger = new Anthropic({ apiKey: 'sk-other', baseURL: sut.url, maxRetries: 0 });

    const error = await rejection(
      stranger.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    );

    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('reports cache creation on the first cached call and a cache read on the next', async () => {
    const system = [
      { type: 'text' as const, text: 'You review code. '.repeat(100), cache_control: { type: 'ephemeral' as const } },
    ];
    const ask = (content: string) =>
      client.messages.create({ model: MODEL, max_tokens: 10, system, messages: [{ role: 'user', content }] });
    const prefix = estimateTokens(system[0]!.text);

    const first = await ask('first diff');
    const second = await ask('second diff');

    expect(first.usage).toMatchObject({ cache_creation_input_tokens: prefix, cache_read_input_tokens: 0 });
    expect(second.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: prefix });
    expect(second.usage.input_tokens).toBe(estimateTokens(`${system[0]!.text}second diff`) - prefix);
  });

  it('reads the previous turn from the cache when the breakpoint moves to the end of the conversation', async () => {
    const system = [
      { type: 'text' as const, text: 'You review code. '.repeat(100), cache_control: { type: 'ephemeral' as const } },
    ];
    const mark = { cache_control: { type: 'ephemeral' as const } };
    const turn1 = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'diff '.repeat(200), ...mark }] }];
    const turn2 = [
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'diff '.repeat(200) }] },
      { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'reading a.ts' }] },
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'file '.repeat(200), ...mark }] },
    ];
    const first = await client.messages.create({ model: MODEL, max_tokens: 10, system, messages: turn1 });
    const second = await client.messages.create({ model: MODEL, max_tokens: 10, system, messages: turn2 });

    const firstPrefix = estimateTokens(system[0]!.text + turn1[0]!.content[0]!.text);
    expect(first.usage.cache_creation_input_tokens).toBe(firstPrefix);
    expect(second.usage.cache_read_input_tokens).toBe(firstPrefix);
    expect(second.usage.cache_creation_input_tokens).toBeGreaterThan(0);
  });

  it('caches nothing below the minimum cacheable length', async () => {
    const strict = await new FakeAnthropic({ minCacheTokens: 1024 }).start();
    try {
      const small = new Anthropic({ apiKey: 'k', baseURL: strict.url, maxRetries: 0 });
      const system = [{ type: 'text' as const, text: 'short prompt', cache_control: { type: 'ephemeral' as const } }];
      const ask = () =>
        small.messages.create({ model: MODEL, max_tokens: 10, system, messages: [{ role: 'user', content: 'x' }] });

      await ask();
      const second = await ask();

      expect(second.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    } finally {
      await strict.stop();
    }
  });

  it('hands a scripted reply the tool results of the conversation so far', async () => {
    let seen: ReturnType<typeof FakeAnthropic.toolResults> = [];
    sut.script((request) => {
      seen = FakeAnthropic.toolResults(request);
      return FakeAnthropic.text('done');
    });

    await client.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: 'a' } }] },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'no such file', is_error: true }],
        },
      ],
    });

    expect(seen).toEqual([{ id: 'toolu_1', content: 'no such file', isError: true }]);
  });

  it('counts tokens with the same estimate it bills', async () => {
    const params = { model: MODEL, messages: [{ role: 'user' as const, content: 'x'.repeat(400) }] };

    const counted = await client.messages.countTokens(params);

    expect(counted).toEqual({ input_tokens: 100 });
  });

  it('streams a tool_use the SDK assembles into the final message', async () => {
    sut.script({ text: 'Reviewing.', toolUse: { name: 'submit_review', input: { summary: 'ok' } } });

    const message = await client.messages
      .stream({ model: MODEL, max_tokens: 100, tools: [REVIEW_TOOL], messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();

    expect(message.content).toMatchObject([
      { type: 'text', text: 'Reviewing.' },
      { type: 'tool_use', name: 'submit_review', input: { summary: 'ok' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('delays every reply by the configured latency', async () => {
    sut.setLatency(300);
    const started = Date.now();

    await client.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops the connection when told to', async () => {
    sut.dropNext(1);

    const error = await rejection(
      client.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    );

    expect(error).toBeInstanceOf(Anthropic.APIConnectionError);
    expect(sut.requests[0]?.status).toBeUndefined();
  });

  it('answers with a reply computed from the request', async () => {
    sut.script((request) => FakeAnthropic.text(`model was ${request.model}`));

    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(message.content).toEqual([{ type: 'text', text: `model was ${MODEL}` }]);
  });
});

describe(FakeGitHub.name, () => {
  let sut: FakeGitHub;
  let octokit: Octokit;
  const keys = generateAppKeyPair();

  beforeEach(async () => {
    sut = await new FakeGitHub().start();
    octokit = new Octokit({ auth: sut.token, baseUrl: sut.url });
    sut.addRepo('acme', 'api', { files: { main: { '.kritik.yaml': 'max_comments: 5\n' } } });
    sut.addRepo('acme', 'web');
    sut.addPullRequest({
      owner: 'acme',
      repo: 'api',
      number: 7,
      title: 'Add thing',
      user: 'dev',
      base: { ref: 'main', sha: 'b'.repeat(40) },
      head: { ref: 'feature', sha: 'c'.repeat(40) },
      files: [{ filename: 'src/a.ts', patch: PATCH }],
    });
  });
  afterEach(() => sut.stop());

  const pr = { owner: 'acme', repo: 'api', pull_number: 7 };

  /** Adds PR `number` with `count` one-line files; returns their names. */
  function addPullWithFiles(number: number, count: number): string[] {
    const files = Array.from({ length: count }, (_, i) => ({ filename: `src/f${i}.ts`, patch: '@@ -0,0 +1 @@\n+x' }));
    const head = { ref: `pr-${number}`, sha: String(number).padStart(40, '0') };
    sut.addPullRequest({ owner: 'acme', repo: 'api', number, base: { ref: 'main', sha: '1'.repeat(40) }, head, files });
    return files.map((f) => f.filename);
  }

  describe('review threads over GraphQL', () => {
    const threads = `query($owner: String!, $name: String!, $number: Int!) {
      repository(owner: $owner, name: $name) { pullRequest(number: $number) {
        reviewThreads(first: 100) { nodes { id isResolved isOutdated comments(first: 1) { nodes { databaseId author { login } } } } }
      } } }`;
    const resolve =
      'mutation($threadId: ID!) { resolveReviewThread(input: { threadId: $threadId }) { thread { id } } }';

    it('lists threads with their replies and resolves one, as @octokit/graphql reads it', async () => {
      const { data } = await octokit.rest.pulls.createReview({
        ...pr,
        event: 'COMMENT',
        comments: [{ path: 'src/a.ts', line: 2, side: 'RIGHT', body: 'first' }],
      });
      const [root] = sut.reviewComments('acme', 'api', 7);
      await octokit.rest.pulls.createReplyForReviewComment({ ...pr, comment_id: root!.id, body: 'reply' });

      const listed = await octokit.graphql<{
        repository: { pullRequest: { reviewThreads: { nodes: { id: string }[] } } };
      }>(threads, { owner: 'acme', name: 'api', number: 7 });
      const [thread] = listed.repository.pullRequest.reviewThreads.nodes;
      await octokit.graphql(resolve, { threadId: thread!.id });

      expect(data.id).toBeGreaterThan(0);
      expect(thread).toMatchObject({
        isResolved: false,
        isOutdated: false,
        comments: { nodes: [{ databaseId: root!.id }] },
      });
      expect(sut.reviewThreads('acme', 'api', 7)).toEqual([
        expect.objectContaining({
          isResolved: true,
          resolvedBy: 'octocat',
          comments: [expect.anything(), expect.anything()],
        }),
      ]);
    });

    it('answers errors the way GitHub does: HTTP 200 with `errors`, NOT_FOUND and FORBIDDEN', async () => {
      sut.addToken('ghs_read_only', { permissions: { pull_requests: 'read' } });
      const reader = new Octokit({ auth: 'ghs_read_only', baseUrl: sut.url });
      await octokit.rest.pulls.createReview({
        ...pr,
        event: 'COMMENT',
        comments: [{ path: 'src/a.ts', line: 2, side: 'RIGHT', body: 'first' }],
      });
      const [thread] = sut.reviewThreads('acme', 'api', 7);

      const missing = await rejection(octokit.graphql(threads, { owner: 'acme', name: 'nope', number: 7 }));
      const forbidden = await rejection(reader.graphql(resolve, { threadId: thread!.id }));
      const unknown = await rejection(octokit.graphql(resolve, { threadId: 'PRRT_999999' }));

      expect((missing as { errors?: { type: string }[] }).errors?.[0]?.type).toBe('NOT_FOUND');
      expect((forbidden as { errors?: { type: string }[] }).errors?.[0]?.type).toBe('FORBIDDEN');
      expect((unknown as { errors?: { type: string }[] }).errors?.[0]?.type).toBe('NOT_FOUND');
      expect(sut.reviewThreads('acme', 'api', 7)[0]!.isResolved).toBe(false);
    });

    it('marks a thread outdated once a push changes its line', async () => {
      await octokit.rest.pulls.createReview({
        ...pr,
        event: 'COMMENT',
        comments: [{ path: 'src/a.ts', line: 2, side: 'RIGHT', body: 'first' }],
      });
      sut.pushHead('acme', 'api', 7, 'd'.repeat(40), [
        { filename: 'src/a.ts', patch: '@@ -1,3 +1,4 @@\n line1\n-old2\n+changed2\n+new3\n line3' },
      ]);
      expect(sut.reviewThreads('acme', 'api', 7)[0]).toMatchObject({ isOutdated: true, line: null });
    });
  });

  it('serves a tarball through a redirect to a tokened download, topped by owner-repo-sha', async () => {
    sut.setFiles('acme', 'api', 'feature', { 'src/a.ts': 'export const a = 1;\n' });

    const response = await fetch(`${sut.url}/repos/acme/api/tarball/${'c'.repeat(40)}`, {
      headers: { authorization: `token ${sut.token}` },
      redirect: 'manual',
    });
    const location = response.headers.get('location')!;
    const archive = Buffer.from(await (await fetch(location)).arrayBuffer());
    const names: string[] = [];
    const extract = (await import('tar-stream')).extract();
    const done = new Promise<void>((resolve) => extract.on('finish', () => resolve()));
    extract.on('entry', (header, stream, next) => {
      names.push(header.name);
      stream.on('end', () => next());
      stream.resume();
    });
    extract.end((await import('node:zlib')).gunzipSync(archive));
    await done;

    expect(response.status).toBe(302);
    expect(location).toMatch(/\/legacy\.tar\.gz\/c{40}\?token=/);
    expect(names).toContain(`acme-api-ccccccc/src/a.ts`);
  });

  it('refuses the codeload URL without its token', async () => {
    const response = await fetch(`${sut.url}/_codeload/acme/api/legacy.tar.gz/main`);

    expect(response.status).toBe(404);
  });

  it('returns a pull request in the REST shape', async () => {
    const { data } = await octokit.rest.pulls.get(pr);

    expect(data).toMatchObject({ number: 7, title: 'Add thing', head: { sha: 'c'.repeat(40) }, changed_files: 1 });
    expect(data.additions).toBe(2);
    expect(sut.requests[0]?.headers.authorization).toBe(`token ${sut.token}`);
  });

  it('pages 450 files that octokit.paginate collects', async () => {
    const names = addPullWithFiles(8, 450);

    const listed = await octokit.paginate(octokit.rest.pulls.listFiles, { ...pr, pull_number: 8, per_page: 100 });

    expect(listed.map((f) => f.filename)).toEqual(names);
    expect(sut.requestsTo('GET /repos/acme/api/pulls/8/files')).toHaveLength(5);
  });

  it('lists at most 3000 files of a pull request', async () => {
    addPullWithFiles(9, 3100);

    const listed = await octokit.paginate(octokit.rest.pulls.listFiles, { ...pr, pull_number: 9, per_page: 100 });

    expect(listed).toHaveLength(3000);
  });

  it('returns the unified diff for the diff media type', async () => {
    const { data } = await octokit.rest.pulls.get({ ...pr, mediaType: { format: 'diff' } });

    expect(String(data)).toBe(`diff --git a/src/a.ts b/src/a.ts\n--- a/src/a.ts\n+++ b/src/a.ts\n${PATCH}\n`);
  });

  it('answers 406 too_large for the diff of a pull request over 300 files', async () => {
    addPullWithFiles(10, 301);

    const error = await rejection(octokit.rest.pulls.get({ ...pr, pull_number: 10, mediaType: { format: 'diff' } }));

    expect(error.status).toBe(406);
    expect(error.response?.data).toMatchObject({
      errors: [{ resource: 'PullRequest', field: 'diff', code: 'too_large' }],
    });
  });

  it('returns file contents base64-encoded at a ref', async () => {
    const { data } = await octokit.rest.repos.getContent({
      owner: 'acme',
      repo: 'api',
      path: '.kritik.yaml',
      ref: 'main',
    });

    expect(data).toMatchObject({ type: 'file', encoding: 'base64', path: '.kritik.yaml' });
    expect(Buffer.from((data as { content: string }).content, 'base64').toString()).toBe('max_comments: 5\n');
  });

  it('reads files at a pull request base SHA from its base branch', async () => {
    const { data } = await octokit.rest.repos.getContent({
      owner: 'acme',
      repo: 'api',
      path: '.kritik.yaml',
      ref: 'b'.repeat(40),
    });

    expect(data).toMatchObject({ path: '.kritik.yaml', size: 'max_comments: 5\n'.length });
  });

  it('answers 404 for a file missing at the ref', async () => {
    const error = await rejection(octokit.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'nope.txt' }));

    expect(error.status).toBe(404);
    expect(error.response?.data).toMatchObject({ message: 'Not Found' });
  });

  it('rejects a review comment on a line outside the diff with 422', async () => {
    const error = await rejection(
      octokit.rest.pulls.createReview({
        ...pr,
        event: 'COMMENT',
        body: 'summary',
        comments: [{ path: 'src/a.ts', line: 10, side: 'RIGHT', body: 'here' }],
      }),
    );

    expect(error.status).toBe(422);
    expect(error.response?.data).toMatchObject({
      message: 'Unprocessable Entity',
      errors: ['Line could not be resolved'],
    });
    expect(sut.reviews('acme', 'api', 7)).toEqual([]);
  });

  it.each([
    ['starts in another hunk', 2, 21],
    ['starts after its line', 4, 2],
    ['starts outside any hunk', 12, 21],
  ])('rejects a multi-line comment that %s with 422, as GitHub', async (_what, startLine, line) => {
    const twoHunks = `${PATCH}\n@@ -20,2 +21,3 @@\n a\n+b\n c`;
    sut.addPullRequest({
      owner: 'acme',
      repo: 'api',
      number: 8,
      base: { ref: 'main', sha: 'b'.repeat(40) },
      head: { ref: 'two', sha: 'e'.repeat(40) },
      files: [{ filename: 'src/a.ts', patch: twoHunks }],
    });
    const review = (comment: { start_line: number; line: number }) =>
      octokit.rest.pulls.createReview({
        ...pr,
        pull_number: 8,
        event: 'COMMENT',
        body: 'summary',
        comments: [{ path: 'src/a.ts', side: 'RIGHT', start_side: 'RIGHT', body: 'range', ...comment }],
      });

    const error = await rejection(review({ start_line: startLine, line }));
    const within = await review({ start_line: 21, line: 23 });

    expect(error.status).toBe(422);
    expect(within.status).toBe(200);
  });

  it('serves the labels of a pull request as pulls.get lists them', async () => {
    sut.setLabels('acme', 'api', 7, ['needs-review', 'area/api']);

    const { data } = await octokit.rest.pulls.get(pr);

    expect(data.labels.map((l) => [l.name, l.default, typeof l.id])).toEqual([
      ['needs-review', false, 'number'],
      ['area/api', false, 'number'],
    ]);
    expect(data.labels[1]!.url).toBe(`${sut.url}/repos/acme/api/labels/area%2Fapi`);
  });

  it('stores a review whose comments sit on RIGHT-side lines of a hunk', async () => {
    const { data } = await octokit.rest.pulls.createReview({
      ...pr,
      event: 'COMMENT',
      body: 'summary',
      comments: [{ path: 'src/a.ts', start_line: 2, line: 4, side: 'RIGHT', body: 'range' }],
    });

    expect(data.html_url).toBe(`https://github.com/acme/api/pull/7#pullrequestreview-${data.id}`);
    expect(sut.reviews('acme', 'api', 7)).toMatchObject([
      { state: 'COMMENTED', body: 'summary', comments: [{ path: 'src/a.ts', start_line: 2, line: 4, body: 'range' }] },
    ]);
  });

  it('returns the files changed between two pushed heads from compare', async () => {
    const next = 'd'.repeat(40);
    sut.pushHead('acme', 'api', 7, next, [{ filename: 'src/b.ts', status: 'added', patch: '@@ -0,0 +1 @@\n+b' }]);

    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'acme',
      repo: 'api',
      basehead: `${'c'.repeat(40)}...${next}`,
    });

    expect(data.files?.map((f) => f.filename)).toEqual(['src/b.ts']);
    expect(sut.pullRequest('acme', 'api', 7).files.map((f) => f.filename)).toEqual(['src/a.ts', 'src/b.ts']);
  });

  it('answers an injected 500 only on the route it is scoped to', async () => {
    sut.failNext(1, { status: 500 }, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files');

    await octokit.rest.pulls.get(pr);
    const error = await rejection(octokit.rest.pulls.listFiles(pr));

    expect(error.status).toBe(500);
    expect(sut.requests.map((r) => r.status)).toEqual([200, 500]);
  });

  it('answers the next matching request late', async () => {
    sut.delayNext(300, 1, 'GET /repos/{owner}/{repo}/pulls/{pull_number}');
    const started = Date.now();

    await octokit.rest.pulls.get(pr);

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('answers an unknown route with a GitHub-style 404', async () => {
    const error = await rejection(
      octokit.request('GET /repos/{owner}/{repo}/branches', { owner: 'acme', repo: 'api' }),
    );

    expect(error.status).toBe(404);
    expect(error.response?.data).toMatchObject({ message: 'Not Found' });
  });

  it('refuses a request without a token with 401', async () => {
    const anonymous = new Octokit({ baseUrl: sut.url });

    const error = await rejection(anonymous.rest.pulls.get(pr));

    expect(error.status).toBe(401);
  });

  it('refuses check runs from a user token, as only GitHub Apps may write them', async () => {
    const error = await rejection(
      octokit.rest.checks.create({ owner: 'acme', repo: 'api', name: 'Kritik', head_sha: 'c'.repeat(40) }),
    );

    expect(error.status).toBe(403);
  });

  describe('as a GitHub App', () => {
    let app: App;

    beforeEach(() => {
      sut.setApp({ appId: 4242, privateKeyPem: keys.privateKeyPem });
      sut.addInstallation({ id: 77, account: 'acme' });
      app = new App({ appId: 4242, privateKey: keys.privateKeyPem, Octokit: Octokit.defaults({ baseUrl: sut.url }) });
    });

    async function repoToken(permissions: Record<string, 'read' | 'write'>): Promise<Octokit> {
      const { data: installation } = await app.octokit.request('GET /repos/{owner}/{repo}/installation', {
        owner: 'acme',
        repo: 'api',
      });
      const auth = (await app.octokit.auth({
        type: 'installation',
        installationId: installation.id,
        repositoryNames: ['api'],
        permissions,
      })) as { token: string };
      return new Octokit({ auth: auth.token, baseUrl: sut.url });
    }

    it('mints an installation token that reaches its one repository and gets 403 on another', async () => {
      const scoped = await repoToken({ contents: 'read', pull_requests: 'write', checks: 'write' });

      const own = await scoped.rest.repos.getContent({ owner: 'acme', repo: 'api', path: '.kritik.yaml' });
      const other = await rejection(scoped.rest.repos.get({ owner: 'acme', repo: 'web' }));

      expect(own.status).toBe(200);
      expect(other.status).toBe(403);
      expect(sut.requestsTo('POST /app/installations/77/access_tokens')[0]?.body).toMatchObject({
        repositories: ['api'],
        permissions: { contents: 'read', pull_requests: 'write', checks: 'write' },
      });
    });

    it('refuses an installation token a permission it was not granted', async () => {
      const readOnly = await repoToken({ pull_requests: 'read' });

      const error = await rejection(readOnly.rest.pulls.createReview({ ...pr, event: 'COMMENT', body: 'x' }));

      expect(error.status).toBe(403);
    });

    it('records a check run created in progress and completed by the App', async () => {
      const octo = await repoToken({ checks: 'write' });
      const sha = 'c'.repeat(40);

      const { data } = await octo.rest.checks.create({
        owner: 'acme',
        repo: 'api',
        name: 'Kritik',
        head_sha: sha,
        status: 'in_progress',
      });
      await octo.rest.checks.update({
        owner: 'acme',
        repo: 'api',
        check_run_id: data.id,
        conclusion: 'neutral',
        output: { title: '2 findings', summary: 'see review' },
      });

      expect(sut.checkRuns('acme', 'api', sha)).toMatchObject([
        { name: 'Kritik', status: 'completed', conclusion: 'neutral', output: { title: '2 findings' } },
      ]);
    });

    it('refuses a JWT signed by another key with 401', async () => {
      const impostor = new App({
        appId: 4242,
        privateKey: generateAppKeyPair().privateKeyPem,
        Octokit: Octokit.defaults({ baseUrl: sut.url }),
      });

      const error = await rejection(impostor.octokit.request('GET /app'));

      expect(error.status).toBe(401);
    });
  });
});
