// The outside world of a review, for the end-to-end specs, the worker's specs and the benches: a
// GitHub App installed on one organisation with a repository to open pull requests on, each
// changing one file, and a model that answers with one finding on that file's line 2.
import { createHash } from 'node:crypto';
import {
  describePermission,
  type PostedFinding,
  REQUIRED_PERMISSIONS,
  type ReviewResult,
  type WorkerStatus,
} from '@kritik/core';
import { FakeAnthropic, type MessageReply } from './fakes/anthropic.js';
import { FakeGitHub } from './fakes/github.js';
import { generateAppKeyPair } from './fakes/github-auth.js';

export const APP_ID = 4242;
export const INSTALLATION_ID = 77;
export const OWNER = 'acme';
export const REPO = 'web';
/** The file every pull request changes. */
export const CHANGED_FILE = 'src/app.ts';

/** The worker's scheduling settings fast enough for specs and drills: short leases and retries, frequent renewals and reconciles. */
export const FAST_SCHEDULING = {
  leaseTtlSeconds: 4,
  renewIntervalSeconds: 1,
  busyRetryMs: 200,
  lockDurationMs: 4_000,
  stalledIntervalMs: 1_000,
  reconcileIntervalSeconds: 2,
};

export const shaOf = (text: string) => createHash('sha1').update(text).digest('hex');

export interface PullRequestRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly headSha: string;
  readonly baseSha: string;
  readonly installationId: number;
  readonly author?: string;
}

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

/** That answer's finding as the reviewer posts it: inline at its line. */
export const POSTED_FINDING: PostedFinding = {
  path: CHANGED_FILE,
  line: 2,
  severity: 'major',
  title: 'Unchecked input',
  inline: true,
};

/** The result a reviewer reports for that answer: posted, one major finding, one comment. */
export function postedResult(overrides: Partial<ReviewResult> = {}): ReviewResult {
  return {
    status: 'posted',
    findings: { critical: 0, major: 1, minor: 0, nit: 0 },
    commentsPosted: 1,
    filesReviewed: 1,
    filesSkipped: 0,
    tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0.01,
    durationMs: 5,
    ...overrides,
  };
}

/** The verbs REQUIRED_PERMISSIONS names, as a worker's self-check spells them. */
const CHECKED_PERMISSIONS = REQUIRED_PERMISSIONS.flatMap((p) => p.verbs.map((verb) => describePermission(verb, p)));

export interface WorkerStatusFixture {
  readonly replica: string;
  /** How long ago the replica last beat. */
  readonly beatAgoMs?: number;
  readonly version?: string;
  /** Permissions its Role lacks (`delete jobs.batch`). */
  readonly missing?: readonly string[];
  /** Appended to the reason (hostile text, in the browser test). */
  readonly reasonTail?: string;
}

/**
 * A worker replica's heartbeat as a kubernetes-runner worker publishes it, for the backend's specs;
 * the worker's own specs build theirs with its builder.
 */
export function workerStatus(f: WorkerStatusFixture): WorkerStatus {
  const version = f.version ?? '0.1.0';
  const missing = f.missing ?? [];
  const now = Date.now();
  return {
    replica: f.replica,
    version,
    reviewerImage: { ref: `ghcr.io/kritik-dev/kritik-reviewer:${version}` },
    runner: 'kubernetes',
    ready: missing.length === 0,
    reason:
      (missing.length === 0
        ? 'all permissions granted in namespace "kritik-jobs"'
        : `missing permissions in namespace "kritik-jobs": ${missing.join(', ')} (grant them in the worker's Role)`) +
      (f.reasonTail ?? ''),
    ...(missing.length > 0
      ? {
          remedy: `Grant ${missing.join(', ')} in the worker's Role in namespace "kritik-jobs": the chart generates that Role from REQUIRED_PERMISSIONS, so upgrading the release restores it.`,
        }
      : {}),
    permissions: CHECKED_PERMISSIONS.map((permission) => ({
      permission,
      state: missing.includes(permission) ? 'missing' : 'granted',
    })),
    namespace: 'kritik-jobs',
    running: missing.length === 0 ? 2 : 0,
    concurrency: 5,
    startedAt: new Date(now - 2 * 3_600_000).toISOString(),
    lastBeat: new Date(now - (f.beatAgoMs ?? 0)).toISOString(),
  };
}

/** What the review page shows beside postedResult's counts (the finding as posted, the model, a skipped file): `postedResult(postedDetail())`. */
export const postedDetail = (): Partial<ReviewResult> => ({
  model: 'claude-sonnet-4-5',
  turns: 2,
  toolCalls: 1,
  filesRead: 1,
  filesReadPaths: ['src/input.ts'],
  verification: { checked: 1, kept: 1, corrected: 0, dropped: 0 },
  findingList: [POSTED_FINDING],
  skippedFiles: [{ path: 'assets/logo.png', reason: 'binary file' }],
  filesSkipped: 1,
});

/** Opens pull request `number` on the fake, changing CHANGED_FILE; `label` tells its base and head apart. */
export function addPullRequest(
  github: FakeGitHub,
  { repo = REPO, number, label = `${number}-0` }: { repo?: string; number: number; label?: string },
): PullRequestRef {
  const pr: PullRequestRef = {
    owner: OWNER,
    repo,
    number,
    baseSha: shaOf(`base-${label}`),
    headSha: shaOf(`head-${label}`),
    installationId: INSTALLATION_ID,
  };
  github.addPullRequest({
    owner: OWNER,
    repo,
    number,
    title: `Change ${label}`,
    base: { ref: 'main', sha: pr.baseSha },
    head: { ref: `feature-${label}`, sha: pr.headSha },
    files: [{ filename: CHANGED_FILE, patch: patchFor(label) }],
  });
  return pr;
}

/** Pushes a new head (named by `label`) to pull request `number` of `repo`; returns its sha. */
export function pushHead(
  github: FakeGitHub,
  { repo = REPO, number }: { repo?: string; number: number },
  label: string,
): string {
  const headSha = shaOf(`head-${label}`);
  github.pushHead(OWNER, repo, number, headSha, [{ filename: CHANGED_FILE, patch: patchFor(label) }]);
  return headSha;
}

export interface WorldOptions {
  /** The key the Anthropic fake insists on; any key when unset. */
  readonly anthropicApiKey?: string;
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

  static async start(options: WorldOptions = {}): Promise<World> {
    const keys = generateAppKeyPair();
    const [github, anthropic] = await Promise.all([
      new FakeGitHub().start(),
      new FakeAnthropic(options.anthropicApiKey ? { apiKey: options.anthropicApiKey } : {}).start(),
    ]);
    github.setApp({ appId: APP_ID, privateKeyPem: keys.privateKeyPem });
    github.addRepo(OWNER, REPO, { files: { main: { 'README.md': '# web\n' } } });
    github.addInstallation({ id: INSTALLATION_ID, account: OWNER });
    anthropic.setDefaultReply(findingsReply());
    return new World(github, anthropic, keys);
  }

  /** Opens a pull request on the fake, changing CHANGED_FILE (in `repo`, created on first use). */
  openPullRequest(repo = REPO, label?: string): PullRequestRef {
    if (!this.repos.has(repo)) {
      this.github.addRepo(OWNER, repo, { files: { main: { 'README.md': `# ${repo}\n` } } });
      this.repos.add(repo);
    }
    const number = this.nextNumber++;
    return addPullRequest(this.github, { repo, number, ...(label === undefined ? {} : { label }) });
  }

  /** Pushes commit `n` to a pull request; the returned ref has the new head. */
  push(pr: PullRequestRef, n: number | string): PullRequestRef {
    return { ...pr, headSha: pushHead(this.github, pr, typeof n === 'number' ? `${pr.number}-${n}` : n) };
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
