// The dashboard's three figures, each beside its baseline from the same run:
// 1. JavaScript shipped on first load, gzipped (target <= 150 KB);
// 2. time until headless chromium shows the first page of the reviews list with 10,000 records
//    stored, beside the same with 100 records (paging must keep it flat);
// 3. webhook throughput of the backend with the dashboard on (a live-feed client connected)
//    beside the same build with it off, alternating rounds on one Redis.
// Needs `npm run build` first.   npm run bench:dashboard -w bench [-- --seconds 5 --rounds 3]
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type ReviewRequest, reviewIdFor } from '@kritik/core';
import { ReviewStore } from '@kritik/server';
import { CHROMIUM, FakeGitHub, freePort, startRedis } from '@kritik/testing';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { chromium } from 'playwright-core';
import { median, numberOption } from '../measure.js';
import { backendMain, nextRequest, root, SECRET, waitForHttp } from '../webhooks/load.js';

const SECONDS = numberOption('seconds', 5);
const ROUNDS = numberOption('rounds', 3);
const CONNECTIONS = numberOption('connections', 20);
const DIST = join(root, 'packages/dashboard/dist');
const CLIENT = { id: 'Iv23liBenchClient', secret: 'bench-client-secret-0123456789' };

for (const needed of [backendMain, join(DIST, 'index.html')]) {
  if (!existsSync(needed)) {
    console.error(`${needed} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}

// 1. First-load JavaScript: every script index.html loads, gzipped as a server would send it.
const html = readFileSync(join(DIST, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<script[^>]+src="\/([^"]+)"/g)].map((m) => m[1]!);
const gz = (file: string) => gzipSync(readFileSync(join(DIST, file)), { level: 9 }).length;
const firstLoadKb = scripts.reduce((n, f) => n + gz(f), 0) / 1024;

const startLoad = loadavg()[0]!;
const redis = await startRedis();
const github = await new FakeGitHub().start();
github.addRepo('acme', 'api').addInstallation({ id: 1, account: 'acme' }).setOAuthClient(CLIENT.id, CLIENT.secret);
const children: ChildProcess[] = [];
const profile = mkdtempSync(join(tmpdir(), 'kritik-bench-chromium-'));
try {
  const startBackend = async (dashboard: boolean, db: number) => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [backendMain], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: `${redis.url}/${db}`,
        GITHUB_WEBHOOK_SECRET: SECRET,
        PORT: String(port),
        KRITIK_HOST: '127.0.0.1',
        KRITIK_LOG_LEVEL: 'warn',
        ...(dashboard
          ? {
              GITHUB_CLIENT_ID: CLIENT.id,
              GITHUB_CLIENT_SECRET: CLIENT.secret,
              GITHUB_API_URL: github.url,
              GITHUB_WEB_URL: github.url,
              KRITIK_SESSION_SECRET: 'bench session secret, 32 characters or more',
              KRITIK_DASHBOARD_URL: url,
              KRITIK_DASHBOARD_DIR: DIST,
            }
          : {}),
      },
      stdio: 'ignore',
    });
    children.push(child);
    await waitForHttp(`${url}/ready`, child);
    return url;
  };
  const on = await startBackend(true, 0);
  const off = await startBackend(false, 1);

  // A session, through the fake's OAuth round trip.
  github.signInAs('bench');
  const login = await fetch(`${on}/api/auth/login`, { redirect: 'manual' });
  const state = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const back = new URL((await fetch(login.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!);
  const callback = await fetch(`${on}${back.pathname}${back.search}`, {
    redirect: 'manual',
    headers: { cookie: state },
  });
  const session = callback.headers
    .getSetCookie()
    .find((c) => c.startsWith('kritik_session='))!
    .split(';')[0]!;

  // 2. Time to the rendered first page, with 100 and with 10,000 records stored.
  const client = new Redis(`${redis.url}/0`, { maxRetriesPerRequest: null });
  const store = new ReviewStore(client);
  const seed = async (from: number, to: number) => {
    for (let i = from; i < to; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, to - i) }, (_, j) => {
          const n = i + j + 1;
          const review: ReviewRequest = {
            reviewId: reviewIdFor('github', { owner: 'acme', name: 'api' }, n, n.toString(16).padStart(40, '0')),
            platform: 'github',
            repo: { owner: 'acme', name: 'api' },
            pr: n,
            headSha: n.toString(16).padStart(40, '0'),
            trigger: 'opened',
            sender: 'bench',
            enqueuedAt: new Date().toISOString(),
          };
          return store.create(review);
        }),
      );
    }
  };
  const browser = await chromium.launchPersistentContext(profile, { ...CHROMIUM, args: [...CHROMIUM.args] });
  const [name, value] = [session.slice(0, session.indexOf('=')), session.slice(session.indexOf('=') + 1)];
  await browser.addCookies([{ name, value, url: on }]);
  const page = browser.pages()[0] ?? (await browser.newPage());
  const timeToList = async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const began = performance.now();
      await page.goto(on);
      await page.locator('tbody tr').nth(49).waitFor();
      times.push(performance.now() - began);
    }
    return median(times);
  };
  await seed(0, 100);
  const small = await timeToList();
  await seed(100, 10_000);
  const large = await timeToList();

  // 3. Webhooks, dashboard on (with a live-feed client) vs off.
  const feed = new AbortController();
  void fetch(`${on}/api/dashboard/events`, { headers: { cookie: session }, signal: feed.signal })
    .then((r) => r.body?.pipeTo(new WritableStream()))
    .catch(() => undefined);
  const rps = async (url: string) =>
    (
      await autocannon({
        url: `${url}/webhooks/github`,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [{ setupRequest: () => nextRequest() }],
      })
    ).requests.average;
  await rps(on);
  await rps(off);
  const runs = { on: [] as number[], off: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    runs.off.push(await rps(off));
    runs.on.push(await rps(on));
    console.error(`round ${round}/${ROUNDS} done`);
  }
  feed.abort();
  await browser.close();
  client.disconnect();

  console.log(
    `dashboard bench; load average ${startLoad.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end, on ${cpus().length} CPUs`,
  );
  console.log(
    `first-load JavaScript (gzip -9): ${firstLoadKb.toFixed(1)} KB in ${scripts.length} file(s)   target <= 150 KB`,
  );
  console.log(
    `reviews list, first page rendered (median of 5 loads): 10,000 records ${large.toFixed(0)} ms   baseline 100 records ${small.toFixed(0)} ms`,
  );
  console.log(
    `webhook throughput, saturated (${CONNECTIONS} c, ${ROUNDS} alternating rounds of ${SECONDS} s, medians): ` +
      `dashboard on + live feed ${median(runs.on).toFixed(0)} req/s   baseline dashboard off ${median(runs.off).toFixed(0)} req/s   ` +
      `ratio ${(median(runs.on) / median(runs.off)).toFixed(2)}`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(profile, { recursive: true, force: true });
  await github.stop();
  await redis.stop();
}
