// Webhook to posted review on the whole platform (chart installed by helm on the harness control
// plane, backend and worker as local processes, every review in its own Job run by the test
// kubelet), for a burst of PRs at once, against baselines measured in the same run: one PR alone
// through the same pipeline, and the same number of reviewers run directly (no webhook, queue,
// worker or Job; as many at once as the worker's concurrency), which is the floor this machine
// sets. The Anthropic fake answers after a fixed latency, which is subtracted: the figures are
// Kritik's own. Also peak RSS (VmHWM) of backend and worker.
// Run after `npm run build`: npm run bench:e2e -w bench [-- <PRs> <LLM latency ms> <debounce ms>]
import { execFile } from 'node:child_process';
import { createSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reviewIdFor } from '@kritik/core';
import { ANTHROPIC_API_KEY, APP_ID, INSTALLATION_ID, Platform, type PullRequestRef } from '@kritik/e2e';
import { repoRoot } from '@kritik/testing';
import { percentile } from '../measure.js';

const PRS = Number(process.argv[2] ?? 50);
const LLM_MS = Number(process.argv[3] ?? 1_000);
/** The backend's coalescing window (default 2000 ms), included in every figure. */
const DEBOUNCE_MS = Number(process.argv[4] ?? 250);
const REPOS = 10;
/** The worker's default scheduling.concurrency, also the direct baseline's parallelism. */
const CONCURRENCY = 20;
const BASELINE_RUNS = 3;
const TIMEOUT_MS = 600_000;

/** Production scheduling defaults (the e2e drills use faster ones). */
const DEFAULT_SCHEDULING = {
  leaseTtlSeconds: 30,
  renewIntervalSeconds: 5,
  busyRetryMs: 2_000,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  reconcileIntervalSeconds: 300,
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

/** Peak (VmHWM) or current (VmRSS) resident set size of a process in KiB (Linux /proc). */
function rssKib(pid: number, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0);
}

/** Sends `count` webhooks at once; resolves each PR's webhook-to-posted time minus the LLM latency. */
async function burst(platform: Platform, count: number): Promise<number[]> {
  const prs: PullRequestRef[] = Array.from({ length: count }, (_, i) =>
    platform.world.openPullRequest(`service-${i % REPOS}`),
  );
  const sent = new Map<number, number>();
  const posted = new Map<number, number>();
  const watcher = setInterval(() => {
    const now = performance.now();
    for (const pr of prs)
      if (!posted.has(pr.number) && platform.world.reviews(pr).length > 0) posted.set(pr.number, now);
  }, 5);
  try {
    const ids = await Promise.all(
      prs.map(async (pr) => {
        sent.set(pr.number, performance.now());
        const answer = await platform.webhook(platform.pullRequestEvent('opened', pr));
        if (answer.status !== 202)
          throw new Error(`webhook for PR ${pr.number}: ${answer.status} ${JSON.stringify(answer.body)}`);
        return answer.body.reviewId as string;
      }),
    );
    const deadline = Date.now() + TIMEOUT_MS;
    while (posted.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${posted.size} of ${count} reviews posted in time`);
      await sleep(500);
      for (const id of ids) {
        const { body } = await platform.apiReview(id);
        const record = body as { status?: string; reason?: string } | undefined;
        if (record?.status === 'failed' || record?.status === 'skipped') {
          throw new Error(`review ${id} ended ${record.status}: ${record.reason}`);
        }
      }
    }
  } finally {
    clearInterval(watcher);
  }
  return prs.map((pr) => posted.get(pr.number)! - sent.get(pr.number)! - LLM_MS);
}

/** An installation token from the GitHub fake, minted with the App's JWT like the worker does. */
async function installationToken(platform: Platform): Promise<string> {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iat: now - 30, exp: now + 540, iss: String(APP_ID) })}`;
  const jwt = `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(platform.world.privateKeyPem, 'base64url')}`;
  const response = await fetch(`${platform.github.url}/app/installations/${INSTALLATION_ID}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json' },
  });
  if (response.status !== 201) throw new Error(`access token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

/**
 * Runs the reviewer (`job` mode) directly for `count` PRs that all arrive at once, `CONCURRENCY`
 * at a time; per PR the time from the arrival to the reviewer's exit, minus the LLM latency.
 */
async function direct(platform: Platform, count: number): Promise<number[]> {
  const token = await installationToken(platform);
  const dir = mkdtempSync(join(tmpdir(), 'kritik-bench-direct-'));
  const prs = Array.from({ length: count }, (_, i) => platform.world.openPullRequest(`direct-${i % REPOS}`));
  const times: number[] = [];
  const arrived = performance.now();
  const runOne = (pr: PullRequestRef) =>
    new Promise<void>((done, fail) => {
      const repo = { owner: pr.owner, name: pr.repo };
      const payload = {
        reviewId: reviewIdFor('github', repo, pr.number, pr.headSha),
        platform: 'github',
        repo,
        pr: pr.number,
        baseSha: pr.baseSha,
        headSha: pr.headSha,
        trigger: 'opened',
        installationId: pr.installationId,
        enqueuedAt: new Date().toISOString(),
        apiUrl: platform.github.url,
      };
      execFile(
        process.execPath,
        [join(repoRoot(), 'services/reviewer/dist/main.js'), 'job'],
        {
          env: {
            PATH: process.env.PATH,
            KRITIK_REVIEW: JSON.stringify(payload),
            GITHUB_TOKEN: token,
            GITHUB_API_URL: platform.github.url,
            ANTHROPIC_API_KEY,
            ANTHROPIC_BASE_URL: platform.anthropic.url,
            KRITIK_TERMINATION_LOG: join(dir, `termination-${pr.number}`),
          },
        },
        (error, stdout) => {
          if (error || platform.world.reviews(pr).length !== 1)
            fail(new Error(`direct review of PR ${pr.number}: ${error?.message ?? stdout}`));
          else {
            times.push(performance.now() - arrived - LLM_MS);
            done();
          }
        },
      );
    });
  const queue = [...prs];
  const lanes = Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
    for (let pr = queue.shift(); pr; pr = queue.shift()) await runOne(pr);
  });
  try {
    await Promise.all(lanes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

function line(name: string, values: number[]): string {
  const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(8);
  return `${name.padEnd(34)} n=${String(values.length).padStart(3)}  p50 ${f(percentile(values, 50))}  p99 ${f(percentile(values, 99))}  max ${f(Math.max(...values))}`;
}

const platform = await Platform.start({
  values: {
    logLevel: 'info',
    triggers: { debounceMs: DEBOUNCE_MS },
    worker: { config: { scheduling: DEFAULT_SCHEDULING } },
  },
});
const rssOf = (field: 'VmHWM' | 'VmRSS' = 'VmHWM') => ({
  backend: rssKib(platform.processes.backend.pid, field),
  worker: rssKib(platform.processes.worker.pid, field),
});
try {
  const rssStart = rssOf();
  platform.anthropic.setLatency(LLM_MS, 'POST /v1/messages');
  const baseline: number[] = [];
  for (let run = 0; run < BASELINE_RUNS; run++) baseline.push(...(await burst(platform, 1)));
  const rssBaseline = rssOf();
  const directTimes = await direct(platform, PRS);

  const started = performance.now();
  const loaded = await burst(platform, PRS);
  const wallMs = performance.now() - started;
  const rss = rssOf();
  const rssNow = rssOf('VmRSS');
  const calls = platform.anthropic.requestsTo('POST /v1/messages').length;

  console.log(`webhook -> posted review, LLM latency ${LLM_MS} ms subtracted, debounce ${DEBOUNCE_MS} ms included`);
  console.log(line(`baseline: 1 PR alone (x${BASELINE_RUNS})`, baseline));
  console.log(line(`reviewer run directly, ${CONCURRENCY} at once`, directTimes));
  console.log(line(`${PRS} PRs at once (${REPOS} repos)`, loaded));
  console.log(
    `burst wall time ${(wallMs / 1000).toFixed(1)} s, model calls ${calls} for ${2 * PRS + BASELINE_RUNS} reviews`,
  );
  console.log(`peak RSS at start:       backend ${mib(rssStart.backend)}, worker ${mib(rssStart.worker)}`);
  console.log(`peak RSS after baseline: backend ${mib(rssBaseline.backend)}, worker ${mib(rssBaseline.worker)}`);
  console.log(`peak RSS after burst:    backend ${mib(rss.backend)}, worker ${mib(rss.worker)}`);
  console.log(`current RSS after burst: backend ${mib(rssNow.backend)}, worker ${mib(rssNow.worker)}`);
  const rssMet = Math.max(rss.backend, rss.worker) < 120 * 1024;
  console.log(
    `targets: p50 < 2 s ${percentile(loaded, 50) < 2_000 ? 'met' : 'MISSED'}; RSS < 120 MiB each ${rssMet ? 'met' : 'MISSED'}`,
  );
} finally {
  await platform.stop();
}
