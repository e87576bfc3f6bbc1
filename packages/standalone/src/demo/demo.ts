// `npm run demo`: a whole review with no accounts and no network. The GitHub and Anthropic fakes
// stand in for github.com and the model; the platform is the standalone mode, unchanged.
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePorts } from '@kritik/control-plane';
import { ENV, isFinalStatus, type ReviewRecord } from '@kritik/core';
import { createLogger } from '@kritik/server';
import { APP_ID, delivery, INSTALLATION_ID, pullRequestPayload, sendWebhook, shaOf, World } from '@kritik/testing';
import pino from 'pino';
import { loadStandaloneConfig } from '../standalone.config.js';
import { startStandalone } from '../standalone.js';
import { type PullRequestView, renderPullRequestView } from './render.js';
import {
  BASE_SOURCE,
  DEMO_FILE,
  DEMO_OWNER,
  DEMO_PR,
  DEMO_REPO,
  DEMO_TITLE,
  demoModelReply,
  HEAD_SOURCE,
  PATCH,
} from './scenario.js';

const WEBHOOK_SECRET = 'demo-webhook-secret';
const API_TOKEN = 'demo-api-token-0123456789abcdef';

export interface DemoOptions {
  /** Where the demo's own lines go (the steps and the rendered pull request). */
  readonly print: (text: string) => void;
  /** Where the platform's packages are looked up from (the entry point's directory). */
  readonly from: string;
  /** PATH to find redis-server on. */
  readonly path: string;
  readonly redisServer?: string;
  readonly timeoutMs?: number;
}

export interface DemoResult {
  readonly record: ReviewRecord;
  readonly view: string;
  /** What GitHub received, as it would serve it back (for the docs' screenshots). */
  readonly posted: PullRequestView;
  /** The services' log, kept when the demo failed. */
  readonly logFile: string;
}

export class DemoError extends Error {
  override readonly name = 'DemoError';
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { print } = options;
  const step = (text: string) => print(`▸ ${text}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'kritik-demo-'));
  const logFile = join(dir, 'platform.log');
  const logFd = openSync(logFile, 'a');
  let ok = false;

  step('starting the GitHub and Anthropic fakes (nothing leaves this machine)');
  const world = await World.start();
  try {
    const pr = {
      number: DEMO_PR,
      baseSha: shaOf('demo-base'),
      headSha: shaOf('demo-head'),
      installationId: INSTALLATION_ID,
    };
    world.github.addRepo(DEMO_OWNER, DEMO_REPO, {
      files: { main: { [DEMO_FILE]: BASE_SOURCE }, 'discount-codes': { [DEMO_FILE]: HEAD_SOURCE } },
    });
    world.github.addPullRequest({
      owner: DEMO_OWNER,
      repo: DEMO_REPO,
      number: pr.number,
      title: DEMO_TITLE,
      user: 'octocat',
      base: { ref: 'main', sha: pr.baseSha },
      head: { ref: 'discount-codes', sha: pr.headSha },
      files: [{ filename: DEMO_FILE, patch: PATCH }],
    });
    world.anthropic.setDefaultReply(demoModelReply());

    step('starting Kritik (backend, worker, redis-server) as `npm start` does');
    const [port, workerPort] = (await freePorts(2)) as [number, number];
    const source: NodeJS.ProcessEnv = {
      PATH: options.path,
      HOME: dir,
      ...(options.redisServer ? { [ENV.redisServer]: options.redisServer } : {}),
      [ENV.dataDir]: join(dir, 'data'),
      [ENV.port]: String(port),
      [ENV.workerPort]: String(workerPort),
      [ENV.githubWebhookSecret]: WEBHOOK_SECRET,
      [ENV.apiToken]: API_TOKEN,
      [ENV.githubAppId]: String(APP_ID),
      [ENV.githubAppPrivateKey]: world.privateKeyPem,
      [ENV.githubApiUrl]: world.github.url,
      [ENV.anthropicApiKey]: 'sk-ant-demo-key',
      [ENV.anthropicBaseUrl]: world.anthropic.url,
      [ENV.debounceMs]: '0',
    };
    const config = loadStandaloneConfig(source);
    const logger = createLogger({
      name: 'demo',
      level: 'warn',
      destination: pino.destination({ dest: logFd, sync: true }),
    });
    const platform = await startStandalone({ config, source, logger, from: options.from, output: logFd });
    try {
      step(`sending a signed pull_request webhook for ${DEMO_OWNER}/${DEMO_REPO}#${DEMO_PR} to ${platform.backendUrl}`);
      const ref = { owner: DEMO_OWNER, repo: DEMO_REPO, ...pr, author: 'octocat' };
      const payload = pullRequestPayload('opened', ref) as { pull_request: Record<string, unknown> };
      payload.pull_request.title = DEMO_TITLE;
      const answer = await sendWebhook(platform.backendUrl, WEBHOOK_SECRET, delivery('pull_request', payload));
      if (answer.status !== 202)
        throw new DemoError(`the backend answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      step('the backend queued it; the worker runs the reviewer, which reads the change and asks the model');
      const record = await waitForEnd(platform.backendUrl, String(answer.body.reviewId), options.timeoutMs ?? 90_000);
      step(
        `review ${record.status}${record.reason ? ` (${record.reason})` : ''}; this is what the pull request shows:`,
      );
      const posted: PullRequestView = {
        title: `${DEMO_TITLE} (#${DEMO_PR})`,
        url: `https://github.com/${DEMO_OWNER}/${DEMO_REPO}/pull/${DEMO_PR}`,
        review: world.github.reviews(DEMO_OWNER, DEMO_REPO, DEMO_PR).at(-1),
        comments: world.github.reviewComments(DEMO_OWNER, DEMO_REPO, DEMO_PR),
        checkRuns: world.github.checkRuns(DEMO_OWNER, DEMO_REPO, pr.headSha),
      };
      const view = renderPullRequestView(posted);
      print(`\n${view}\n`);
      ok = record.status === 'posted';
      return { record, view, posted, logFile };
    } finally {
      step('stopping Kritik');
      await platform.stop();
    }
  } finally {
    await world.stop();
    closeSync(logFd);
    if (ok) rmSync(dir, { recursive: true, force: true });
    else print(`The platform's log is in ${logFile}\n`);
  }
}

async function waitForEnd(backendUrl: string, reviewId: string, timeoutMs: number): Promise<ReviewRecord> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${backendUrl}/api/reviews/${encodeURIComponent(reviewId)}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    if (response.ok) {
      const record = (await response.json()) as ReviewRecord;
      if (isFinalStatus(record.status)) return record;
    }
    await sleep(200);
  }
  throw new DemoError(`review ${reviewId} did not end within ${timeoutMs / 1000} s`);
}
