// End-to-end harness of the reviewer: the GitHub and Anthropic fakes from @kritik/testing, a
// GitHub App installation token minted through the fake's real endpoint, and the real Octokit and
// Anthropic SDK pointed at them.
import { createPrivateKey, sign } from 'node:crypto';
import { type RepoRef, repoFullName, reviewIdFor } from '@kritik/core';
import { FakeAnthropic, FakeGitHub, generateAppKeyPair, type PullFileInput } from '@kritik/testing';
import { Octokit } from '@octokit/rest';
import { createOctokit, OctokitGitHub } from '../src/code-host/github.js';
import { AnthropicLlm, createAnthropic } from '../src/llm/anthropic.js';
import { TOOL_NAME } from '../src/prompt/prompt.js';
import { type ReviewSource, type RunReviewOptions, runReview } from '../src/review/engine.js';

/** The review payload the worker hands a Job for the harness's pull request. */
export const jobPayload = (apiUrl: string) => ({
  reviewId: reviewIdFor('github', REPO, 7, HEAD_SHA),
  platform: 'github',
  repo: REPO,
  pr: 7,
  baseSha: BASE_SHA,
  headSha: HEAD_SHA,
  trigger: 'opened',
  enqueuedAt: new Date().toISOString(),
  apiUrl,
});

export const API_KEY = 'sk-ant-test-key-for-the-fake';
export const REPO: RepoRef = { owner: 'acme', name: 'api' };
export const BASE_SHA = 'b'.repeat(40);
export const HEAD_SHA = 'c'.repeat(40);
/** The login the fake's App posts as (its default slug), passed by the worker as `botLogin`. */
export const BOT_LOGIN = 'kritik-test[bot]';
const APP_ID = 4242;
const INSTALLATION_ID = 77;

/**
 * Splits a real `git diff` into the file list GitHub's API serves: filename, status, previous name
 * and the patch (hunks only; none for binary files). Independent of the reviewer's parser.
 */
export function pullFilesFromDiff(diff: string): PullFileInput[] {
  const sections = diff.split(/^(?=diff --git )/m).filter((s) => s.startsWith('diff --git '));
  return sections.map((section) => {
    const header = section.slice(0, section.search(/^@@ /m) >= 0 ? section.search(/^@@ /m) : section.length);
    const m = /^diff --git a\/(.+) b\/(.+)$/m.exec(header)!;
    const renameFrom = /^rename from (.+)$/m.exec(header)?.[1];
    const renameTo = /^rename to (.+)$/m.exec(header)?.[1];
    const deleted = /^deleted file mode/m.test(header);
    const added = /^new file mode/m.test(header);
    const filename = renameTo ?? m[2]!;
    const status = deleted ? 'removed' : added ? 'added' : renameFrom ? 'renamed' : 'modified';
    const at = section.search(/^@@ /m);
    const patch = at >= 0 ? section.slice(at).replace(/\n$/, '') : undefined;
    return {
      filename,
      status,
      ...(renameFrom ? { previous_filename: renameFrom } : {}),
      ...(patch !== undefined ? { patch } : {}),
    } as PullFileInput;
  });
}

/** The new-file line numbers of the added lines of one file's patch. */
export function addedLines(patch: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let line = 0;
  for (const l of patch.split('\n')) {
    const h = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(l);
    if (h) line = Number(h[1]);
    else if (l.startsWith('+')) out.push({ line: line++, text: l.slice(1) });
    else if (!l.startsWith('-') && !l.startsWith('\\')) line++;
  }
  return out;
}

export interface Finding {
  path: string;
  line: number;
  end_line?: number;
  severity: 'critical' | 'major' | 'minor' | 'nit';
  title: string;
  body: string;
  suggestion?: string;
}

export const toolReply = (summary: string, findings: Finding[] = []) =>
  FakeAnthropic.toolUse(TOOL_NAME, { summary, findings });

/** The real Anthropic SDK on the fake, with short retry delays. */
export function fakeLlm(anthropic: FakeAnthropic, progress: string[]): AnthropicLlm {
  return new AnthropicLlm(
    createAnthropic({ apiKey: API_KEY, baseURL: anthropic.url, timeoutMs: 10_000 }),
    { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 2_000 },
    (m) => progress.push(m),
  );
}

function appJwt(privateKeyPem: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 540, iss: String(APP_ID) })}`;
  return `${data}.${sign('sha256', Buffer.from(data), createPrivateKey(privateKeyPem)).toString('base64url')}`;
}

let sharedKeys: ReturnType<typeof generateAppKeyPair> | undefined;
/** One RSA key pair per test file: generating one takes long on a busy machine. */
const appKeys = () => {
  sharedKeys ??= generateAppKeyPair();
  return sharedKeys;
};

export class Harness {
  readonly github = new FakeGitHub({ user: 'alice' });
  readonly anthropic = new FakeAnthropic({ apiKey: API_KEY });
  readonly progress: string[] = [];
  token = '';
  private readonly keys = appKeys();

  async start(): Promise<this> {
    await Promise.all([this.github.start(), this.anthropic.start()]);
    this.github.setApp({ appId: APP_ID, privateKeyPem: this.keys.privateKeyPem });
    this.github.addInstallation({ id: INSTALLATION_ID, account: REPO.owner });
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([this.github.stop(), this.anthropic.stop()]);
  }

  /** A repository with `.kritik.yaml` (or none) on the base commit, and an installation token for it. */
  async repo(baseConfig?: string, headFiles: Record<string, string> = {}): Promise<void> {
    this.github.addRepo(REPO.owner, REPO.name, {
      files: {
        [BASE_SHA]: baseConfig === undefined ? {} : { '.kritik.yaml': baseConfig },
        [HEAD_SHA]: headFiles,
      },
    });
    // Minted like the worker does: repository-scoped, with only the permissions a review needs.
    const app = new Octokit({ baseUrl: this.github.url, auth: appJwt(this.keys.privateKeyPem) });
    const { data } = await app.request('POST /app/installations/{installation_id}/access_tokens', {
      installation_id: INSTALLATION_ID,
      repositories: [REPO.name],
      permissions: { contents: 'read', pull_requests: 'write', checks: 'write' },
    });
    this.token = data.token;
  }

  pullRequest(files: PullFileInput[], over: Partial<Parameters<FakeGitHub['addPullRequest']>[0]> = {}): void {
    this.github.addPullRequest({
      owner: REPO.owner,
      repo: REPO.name,
      number: 7,
      title: 'Update dependencies',
      body: 'Routine update.',
      user: 'alice',
      base: { ref: 'main', sha: BASE_SHA },
      head: { ref: 'feature', sha: HEAD_SHA },
      files,
      ...over,
    });
  }

  /** Runs a review the way Job mode does, through the real SDKs, with short retry delays. */
  review(
    over: Omit<Partial<RunReviewOptions>, 'source'> & {
      source?: Partial<Extract<ReviewSource, { kind: 'pull' }>>;
    } = {},
  ) {
    const octokit = createOctokit({ token: this.token, baseUrl: this.github.url, retryBaseMs: 5 });
    const llm = fakeLlm(this.anthropic, this.progress);
    const { source, ...rest } = over;
    return runReview({
      source: {
        kind: 'pull',
        repo: REPO,
        pr: 7,
        headSha: HEAD_SHA,
        trigger: 'opened',
        selfLogin: BOT_LOGIN,
        ...source,
      },
      host: new OctokitGitHub(octokit),
      llm,
      progress: (m) => this.progress.push(m),
      ...rest,
    });
  }

  reviews() {
    return this.github.reviews(REPO.owner, REPO.name, 7);
  }

  checkRuns(sha = HEAD_SHA) {
    return this.github.checkRuns(REPO.owner, REPO.name, sha);
  }

  get name(): string {
    return `${repoFullName(REPO)}#7`;
  }
}
