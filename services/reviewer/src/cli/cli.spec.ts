import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeAnthropic } from '@kritik/testing';
import { loadFixture } from '../../test/load-fixture.js';
import { memoryIo } from '../../test/memory-io.js';
import { reviewReportSchema } from '../review/result.js';
import { apiUrlFor, hostFor, main, parseTarget } from './cli.js';

const secretDiff = `--- a/app.env\n+++ b/app.env\n@@ -1 +1,2 @@\n A=1\n+GH=${'ghp'}_${'Z9'.repeat(18)}\n`;

describe(parseTarget.name, () => {
  it('reads owner/repo#number', () => {
    expect(parseTarget('acme/api#12')).toEqual({ platform: 'github', repo: { owner: 'acme', name: 'api' }, pr: 12 });
  });

  it('reads a github.com pull request URL', () => {
    expect(parseTarget('https://github.com/acme/api/pull/12/files')).toEqual({
      platform: 'github',
      repo: { owner: 'acme', name: 'api' },
      pr: 12,
    });
  });

  it('names the host of a GitHub Enterprise pull request URL', () => {
    expect(parseTarget('http://ghe.example.com:8080/acme/api/pull/3')).toEqual({
      platform: 'github',
      repo: { owner: 'acme', name: 'api' },
      pr: 3,
      host: 'ghe.example.com:8080',
    });
  });

  it('rejects anything else with a message naming the expected forms', () => {
    expect(() => parseTarget('acme/api')).toThrow(/expected owner\/repo#123 or a pull or merge request URL/);
  });

  it('reads a GitLab merge request URL with nested groups into the namespace', () => {
    expect(parseTarget('https://gitlab.example.com/acme/platform/team/api/-/merge_requests/12/diffs')).toEqual({
      platform: 'gitlab',
      repo: { owner: 'acme/platform/team', name: 'api' },
      pr: 12,
      host: 'gitlab.example.com',
    });
  });

  it('reads a gitlab.com merge request of a project in its owner namespace', () => {
    expect(parseTarget('https://gitlab.com/alice/tool/-/merge_requests/3')).toMatchObject({
      platform: 'gitlab',
      repo: { owner: 'alice', name: 'tool' },
      pr: 3,
    });
  });

  it.each([
    'https://gitlab.example.com/api/-/merge_requests/3',
    'https://gitlab.example.com/acme/%2E%2E/api/-/merge_requests/3',
    'https://gitlab.example.com/acme/api/-/merge_requests/x',
  ])('refuses %s as a merge request', (url) => {
    expect(() => parseTarget(url)).toThrow(/not a (pull or )?merge request URL/);
  });
});

describe(hostFor.name, () => {
  const settings = {
    githubApiUrl: 'https://api.github.com',
    githubApiUrlSet: false,
    githubToken: 'ghp_token',
    gitlabUrl: 'https://gitlab.example.com',
    gitlabUrlSet: true,
    gitlabToken: 'glpat-token',
  };
  const mr = parseTarget('https://gitlab.example.com/acme/platform/api/-/merge_requests/12');

  it('sends GITLAB_TOKEN to GITLAB_URL for a merge request there', () => {
    expect(hostFor(mr, settings)).toEqual({
      platform: 'gitlab',
      url: 'https://gitlab.example.com',
      token: 'glpat-token',
    });
  });

  it('refuses a merge request on another host and says which variable to set', () => {
    const elsewhere = parseTarget('https://evil.example/acme/api/-/merge_requests/1');

    expect(() => hostFor(elsewhere, settings)).toThrow(/GITLAB_URL=https:\/\/evil\.example/);
  });

  it('asks for GITLAB_TOKEN when it is not set', () => {
    expect(() => hostFor(mr, { ...settings, gitlabToken: undefined })).toThrow(
      'GITLAB_TOKEN must be set to read acme/platform/api!12',
    );
  });

  it('keeps GitHub targets on GITHUB_TOKEN', () => {
    expect(hostFor(parseTarget('acme/api#1'), settings)).toMatchObject({ platform: 'github', token: 'ghp_token' });
  });
});

describe(apiUrlFor.name, () => {
  const defaults = { githubApiUrl: 'https://api.github.com', githubApiUrlSet: false };

  it('sends the token to the configured API for github.com and short targets', () => {
    expect(apiUrlFor({}, defaults)).toBe('https://api.github.com');
  });

  it('sends the token to another host only when GITHUB_API_URL names that host', () => {
    const ghe = { githubApiUrl: 'https://ghe.example.com/api/v3', githubApiUrlSet: true };
    expect(apiUrlFor({ host: 'ghe.example.com' }, ghe)).toBe('https://ghe.example.com/api/v3');
  });

  it.each([
    ['an unconfigured host', { host: 'evil.example' }, defaults],
    [
      'a host other than the configured one',
      { host: 'evil.example' },
      { githubApiUrl: 'https://ghe.example.com/api/v3', githubApiUrlSet: true },
    ],
  ])('refuses %s and says which variable to set', (_name, target, settings) => {
    expect(() => apiUrlFor(target, settings)).toThrow(/GITHUB_API_URL=https:\/\/evil\.example\/api\/v3/);
  });
});

describe(main.name, () => {
  it('never sends GITHUB_TOKEN to the host of a plain-HTTP pull request URL', async () => {
    const requests: string[] = [];
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      requests.push(String(req.headers.authorization));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const sut = memoryIo();
    try {
      const code = await main(
        ['review', `http://127.0.0.1:${port}/acme/api/pull/1`, '--dry-run'],
        { GITHUB_TOKEN: 'ghp_secret_token_value' },
        sut.io,
      );

      expect(code).toBe(2);
      expect(sut.stderr()).toContain(`the pull request is on 127.0.0.1:${port}`);
      expect(requests).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('reviews a diff from stdin with the checks alone when no API key is set, and says so', async () => {
    const sut = memoryIo(secretDiff);

    const code = await main(['review', '--diff', '-', '--format', 'json'], {}, sut.io);

    const report = reviewReportSchema.parse(JSON.parse(sut.stdout()));
    expect(code).toBe(0);
    expect(report).toMatchObject({ status: 'skipped', reason: 'dry run: nothing posted', findings: { critical: 1 } });
    expect(report.findingList).toEqual([
      { path: 'app.env', line: 2, severity: 'critical', title: 'Possible secret: a GitHub token', inline: true },
    ]);
    expect(sut.stderr()).toContain('ANTHROPIC_API_KEY is not set: running the deterministic checks only');
  });

  it('prints only text on stdout for --format text, headed by what happened to a local diff', async () => {
    const sut = memoryIo(loadFixture('go-cmp'));

    await main(['review', '--diff', '-'], {}, sut.io);

    expect(sut.stdout()).toMatch(/^Kritik: reviewed the local diff \(nothing is posted for a local diff\)\n/);
    expect(sut.stdout()).not.toMatch(/^\{/m);
    expect(sut.stderr()).toContain('kritik: diff: 8 file(s)');
  });

  it('prints only the Markdown on stdout for --format markdown, so it can be piped', async () => {
    const sut = memoryIo(secretDiff);

    await main(['review', '--diff', '-', '--format', 'markdown'], {}, sut.io);

    expect(sut.stdout()).toMatch(/^## Kritik review\n/);
    expect(sut.stdout()).not.toMatch(/^\{/m);
  });

  it('prints exactly one JSON object on stdout for --format json', async () => {
    const sut = memoryIo(secretDiff);

    await main(['review', '--diff', '-', '--format', 'json'], {}, sut.io);

    expect(sut.stdout().trimEnd().split('\n')).toHaveLength(1);
    expect(reviewReportSchema.parse(JSON.parse(sut.stdout()))).toMatchObject({ findings: { critical: 1 } });
  });

  it.each([
    [['review', '--help']],
    [['review', '-h']],
    [['review', '--diff', '-', '--help']],
    [['job', '--help']],
    [['--help']],
  ])('prints the usage on stdout and exits 0 for %j', async (...argv) => {
    const sut = memoryIo();

    const code = await main(argv[0]!, {}, sut.io);

    expect([code, sut.stderr()]).toEqual([0, '']);
    expect(sut.stdout()).toContain('--fail-on critical|major|minor');
  });

  it.each([
    ['critical', 3],
    ['major', 3],
    ['minor', 3],
  ])('exits %s→%i when a critical finding meets --fail-on, and says why on stderr', async (failOn, expected) => {
    const sut = memoryIo(secretDiff);

    const code = await main(['review', '--diff', '-', '--fail-on', failOn, '--format', 'json'], {}, sut.io);

    expect(code).toBe(expected);
    expect(sut.stderr()).toContain(`1 finding(s) at ${failOn} or above (--fail-on ${failOn})`);
    expect(JSON.parse(sut.stdout())).toMatchObject({ findings: { critical: 1 } });
  });

  it('exits 0 with --fail-on when no finding reaches the threshold', async () => {
    const sut = memoryIo(loadFixture('go-cmp'));

    const code = await main(['review', '--diff', '-', '--fail-on', 'minor'], {}, sut.io);

    expect(code).toBe(0);
  });

  it('says there is nothing to review for an empty diff and exits 0', async () => {
    const sut = memoryIo('\n');

    const code = await main(['review', '--diff', '-', '--fail-on', 'minor'], {}, sut.io);

    expect(code).toBe(0);
    expect(sut.stdout()).toMatch(/^Kritik: nothing to review \(the diff changes no file\)\n/);
  });

  it('reports bad input before warning about the missing API key', async () => {
    const sut = memoryIo('not a diff at all');

    const code = await main(['review', '--diff', '-'], {}, sut.io);

    expect(code).toBe(2);
    expect(sut.stderr()).not.toContain('ANTHROPIC_API_KEY');
  });

  it('prints the Markdown a review would post', async () => {
    const sut = memoryIo(secretDiff);

    await main(['review', '--diff', '-', '--format', 'markdown'], {}, sut.io);

    expect(sut.stdout()).toContain('## Kritik review');
    expect(sut.stdout()).toContain('### `app.env:2`');
  });

  it('applies --config to a local diff', async () => {
    const sut = memoryIo(loadFixture('go-cmp'), { 'k.yaml': 'ignore: ["**/*.go"]\n' });

    await main(['review', '--diff', '-', '--config', 'k.yaml', '--format', 'json'], {}, sut.io);

    const report = reviewReportSchema.parse(JSON.parse(sut.stdout()));
    expect(report.skippedFiles.filter((s) => s.reason === 'ignored by .kritik.yaml').length).toBeGreaterThan(0);
  });

  it.each([
    [['review', '--diff', '-'], 'not a diff', 'does not contain a unified diff'],
    [['review', 'acme/api'], '', 'expected owner/repo#123'],
    [['review', 'acme/api#1'], '', 'GITHUB_TOKEN must be set'],
    [['review', '--diff', 'missing.diff'], '', 'cannot read missing.diff'],
    [['review', '--format', 'xml', '--diff', '-'], '', '--format must be one of text, markdown, json'],
    [['review', '--bogus'], '', "Unknown option '--bogus'"],
    [['review', '--diff', '-', '--fail-on', 'nit'], 'x', '--fail-on must be one of critical, major, minor'],
    [['review', '--diff', '-', '--max-turns', '0'], 'x', '--max-turns must be an integer from 1 to 50'],
    [['review', '--diff', '-', '--max-turns', 'many'], 'x', '--max-turns must be an integer from 1 to 50'],
    [['frobnicate'], '', 'unknown command'],
  ])('exits 2 with a clear message for %j', async (argv, stdin, message) => {
    const sut = memoryIo(stdin);

    const code = await main(argv, {}, sut.io);

    expect(code).toBe(2);
    expect(sut.stderr()).toContain(message);
  });

  it('exits 2 and names the variable when the environment is invalid', async () => {
    const sut = memoryIo(secretDiff);

    const code = await main(['review', '--diff', '-'], { ANTHROPIC_BASE_URL: 'not a url' }, sut.io);

    expect([code, sut.stderr()]).toEqual([2, expect.stringContaining('ANTHROPIC_BASE_URL must be a URL')]);
  });
});

describe('kritik review --diff --repo', () => {
  const anthropic = new FakeAnthropic({ apiKey: 'sk-ant-cli-test' });
  let dir: string;
  beforeAll(() => anthropic.start());
  afterAll(() => anthropic.stop());
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kritik-cli-repo-'));
    await writeFile(path.join(dir, 'util.ts'), 'export const twice = (n: number) => n * 2;\n');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const diff =
    '--- a/app.ts\n+++ b/app.ts\n@@ -1 +1,2 @@\n import { twice } from "./util";\n+export const x = twice("2");\n';
  const env = () => ({ ANTHROPIC_API_KEY: 'sk-ant-cli-test', ANTHROPIC_BASE_URL: anthropic.url });

  it('explores the directory, prints one progress line per turn and reports turns and tool calls', async () => {
    anthropic.script(
      { toolUse: { name: 'read_file', input: { path: 'util.ts' } } },
      FakeAnthropic.toolUse('submit_review', {
        summary: 'twice takes a number.',
        findings: [
          {
            path: 'app.ts',
            line: 2,
            severity: 'major',
            title: 'String passed to twice',
            body: 'util.ts:1 takes a number.',
          },
        ],
      }),
    );
    const sut = memoryIo(diff, { [path.join(dir, 'AGENTS.md')]: 'Local rule: prefer pure functions.\n' });

    const code = await main(['review', '--diff', '-', '--repo', dir, '--no-verify', '--format', 'json'], env(), sut.io);

    const report = reviewReportSchema.parse(JSON.parse(sut.stdout()));
    expect(code).toBe(0);
    expect(report).toMatchObject({ turns: 2, toolCalls: 1, filesRead: 1, findings: { major: 1 } });
    expect(sut.stderr()).toMatch(/kritik: review turn 1: read_file; \d+ tokens, \$\d+\.\d{4} so far\n/);
    expect(sut.stderr()).toMatch(/kritik: review turn 2: submit_review;/);
    expect(JSON.stringify(anthropic.messageRequests().at(-1)!.system)).toContain('Local rule: prefer pure functions.');
  });

  it('stops exploring at --max-turns with a forced submit_review', async () => {
    anthropic.setDefaultReply((request) =>
      request.tool_choice?.type === 'tool'
        ? FakeAnthropic.toolUse('submit_review', { summary: 'done', findings: [] })
        : { toolUse: { name: 'list_files', input: {} } },
    );
    const before = anthropic.messageRequests().length;
    const sut = memoryIo(diff);

    await main(['review', '--diff', '-', '--repo', dir, '--max-turns', '2', '--format', 'json'], env(), sut.io);

    expect(anthropic.messageRequests().length - before).toBe(2);
    expect(JSON.parse(sut.stdout())).toMatchObject({ status: 'skipped', turns: 2 });
    expect(sut.stderr()).toContain('review turn 2 (final)');
  });
});
