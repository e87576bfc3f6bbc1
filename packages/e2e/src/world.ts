// The outside world of an end-to-end run: a GitHub App installed on one organisation with a
// repository to open pull requests on, and a model that answers with one finding on line 2.
import { createHash } from 'node:crypto';
import { FakeAnthropic, FakeGitHub, generateAppKeyPair, type MessageReply } from '@kritik/testing';
import type { PullRequestRef } from './webhooks.js';

export const APP_ID = 4242;
export const INSTALLATION_ID = 77;
export const OWNER = 'acme';
export const REPO = 'web';
export const WEBHOOK_SECRET = 'e2e-webhook-secret-5f1d';
export const API_TOKEN = 'e2e-api-token-0123456789abcdef';
export const ANTHROPIC_API_KEY = 'sk-ant-e2e-0123456789';
export const CHANGED_FILE = 'src/app.ts';

const shaOf = (text: string) => createHash('sha1').update(text).digest('hex');

/** Three added lines; the model's finding is on the second. */
const patchFor = (label: string) => `@@ -0,0 +1,3 @@\n+const a = '${label}';\n+run(input);\n+export {};`;

export function findingsReply(): MessageReply {
  return FakeAnthropic.toolUse('submit_review', {
    summary: 'One thing to look at.',
    findings: [
      {
        path: CHANGED_FILE,
        line: 2,
        severity: 'major',
        title: 'Unchecked input',
        body: 'The value is used without validation.',
      },
    ],
  });
}

export class World {
  readonly privateKeyPem: string;
  private nextNumber = 1;
  private readonly repos = new Set([REPO]);

  private constructor(
    readonly github: FakeGitHub,
    readonly anthropic: FakeAnthropic,
    keys: { privateKeyPem: string },
  ) {
    this.privateKeyPem = keys.privateKeyPem;
  }

  static async start(): Promise<World> {
    const keys = generateAppKeyPair();
    const [github, anthropic] = await Promise.all([
      new FakeGitHub().start(),
      new FakeAnthropic({ apiKey: ANTHROPIC_API_KEY }).start(),
    ]);
    github.setApp({ appId: APP_ID, privateKeyPem: keys.privateKeyPem });
    github.addRepo(OWNER, REPO, { files: { main: { 'README.md': '# web\n' } } });
    github.addInstallation({ id: INSTALLATION_ID, account: OWNER });
    anthropic.setDefaultReply(findingsReply());
    return new World(github, anthropic, keys);
  }

  /** Opens a pull request on the fake, changing CHANGED_FILE (in `repo`, created on first use). */
  openPullRequest(repo = REPO): PullRequestRef {
    if (!this.repos.has(repo)) {
      this.github.addRepo(OWNER, repo, { files: { main: { 'README.md': `# ${repo}\n` } } });
      this.repos.add(repo);
    }
    const number = this.nextNumber++;
    const pr: PullRequestRef = {
      owner: OWNER,
      repo,
      number,
      baseSha: shaOf(`base-${number}`),
      headSha: shaOf(`head-${number}-0`),
      installationId: INSTALLATION_ID,
    };
    this.github.addPullRequest({
      owner: OWNER,
      repo,
      number,
      title: `Change ${number}`,
      base: { ref: 'main', sha: pr.baseSha },
      head: { ref: `feature-${number}`, sha: pr.headSha },
      files: [{ filename: CHANGED_FILE, patch: patchFor(`${number}-0`) }],
    });
    return pr;
  }

  /** Pushes commit `n` to a pull request; the returned ref has the new head. */
  push(pr: PullRequestRef, n: number): PullRequestRef {
    const headSha = shaOf(`head-${pr.number}-${n}`);
    this.github.pushHead(OWNER, pr.repo, pr.number, headSha, [
      { filename: CHANGED_FILE, patch: patchFor(`${pr.number}-${n}`) },
    ]);
    return { ...pr, headSha };
  }

  reviews(pr: PullRequestRef) {
    return this.github.reviews(OWNER, pr.repo, pr.number);
  }

  checkRuns(pr: PullRequestRef, sha = pr.headSha) {
    return this.github.checkRuns(OWNER, pr.repo, sha);
  }

  async stop(): Promise<void> {
    await Promise.all([this.github.stop(), this.anthropic.stop()]);
  }
}
