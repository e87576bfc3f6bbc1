// Webhook intake throughput and latency: the backend (services/backend/dist/main.js) against a
// bare node:http server doing only HMAC verification and one Redis write, on this machine, in
// this run, under the same load. Needs `npm run build` first.
//   npm run bench:webhooks -w bench [-- --rate 500 --seconds 5 --rounds 3 --connections 20
//     --compare <another build's main.js>]
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startRedis } from '@kritik/testing';
import autocannon from 'autocannon';
import { cpuMs, median, numberOption, option } from '../measure.js';
import { backendMain, nextRequest, pidOfRedis, SECRET, template, waitForHttp } from './load.js';

const here = dirname(fileURLToPath(import.meta.url));
const RATE = numberOption('rate', 500);
const SECONDS = numberOption('seconds', 5);
const ROUNDS = numberOption('rounds', 3);
const CONNECTIONS = numberOption('connections', 20);
// Another build of the backend's main.js (e.g. of an earlier commit), measured in the same rounds.
const COMPARE = option('compare') ?? '';

if (!existsSync(backendMain)) {
  console.error(`${backendMain} is missing: run \`npm run build\` first`);
  process.exit(1);
}

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
  errors: number;
  /** CPU milliseconds per request of the server process and of redis-server. */
  serverCpuMs: number;
  redisCpuMs: number;
  /** CPU milliseconds per request of this process: autocannon building, signing and sending requests. */
  loadCpuMs: number;
}

async function load(url: string, pids: { server: number; redis: number }, rate?: number): Promise<Figures> {
  const before = { server: cpuMs(pids.server), redis: cpuMs(pids.redis), load: process.cpuUsage() };
  const result = await autocannon({
    url,
    connections: rate ? Math.max(1, Math.round(rate / 100)) : CONNECTIONS,
    duration: SECONDS,
    ...(rate ? { overallRate: rate } : {}),
    requests: [{ setupRequest: () => nextRequest() }],
  });
  const total = result.requests.total || 1;
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.average,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    serverCpuMs: (cpuMs(pids.server) - before.server) / total,
    redisCpuMs: (cpuMs(pids.redis) - before.redis) / total,
    loadCpuMs: (({ user, system }) => (user + system) / 1000 / total)(process.cpuUsage(before.load)),
  };
}

function summarize(runs: Figures[]): Figures {
  const pick = (key: keyof Figures) => median(runs.map((r) => r[key]));
  return {
    p50: pick('p50'),
    p99: pick('p99'),
    rps: pick('rps'),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    serverCpuMs: pick('serverCpuMs'),
    redisCpuMs: pick('redisCpuMs'),
    loadCpuMs: pick('loadCpuMs'),
  };
}

const startLoad = loadavg()[0]!;
const redis = await startRedis();
const children: ChildProcess[] = [];
try {
  const env = { ...process.env, REDIS_URL: redis.url, GITHUB_WEBHOOK_SECRET: SECRET };
  const basePort = await freePort();
  const baseline = fork(join(here, 'baseline-server.mjs'), [], {
    env: { ...env, PORT: String(basePort) },
    stdio: 'ignore',
  });
  children.push(baseline);
  const startBackend = async (main: string) => {
    const port = await freePort();
    const child = spawn(process.execPath, [main], {
      env: { ...env, PORT: String(port), KRITIK_HOST: '127.0.0.1', KRITIK_LOG_LEVEL: 'info' },
      stdio: 'ignore',
    });
    children.push(child);
    await waitForHttp(`http://127.0.0.1:${port}/ready`, child);
    return { url: `http://127.0.0.1:${port}/webhooks/github`, pid: child.pid! };
  };
  // The baseline has no /health; any HTTP answer means it listens.
  await new Promise<void>((resolve) => baseline.once('message', () => resolve()));
  const redisPid = pidOfRedis(redis.port);
  const target = (t: { url: string; pid: number }) => ({ url: t.url, pids: { server: t.pid, redis: redisPid } });
  const targets: Record<string, ReturnType<typeof target>> = {
    baseline: target({ url: `http://127.0.0.1:${basePort}/webhooks/github`, pid: baseline.pid! }),
    backend: target(await startBackend(backendMain)),
  };
  if (COMPARE) targets.compared = target(await startBackend(COMPARE));

  // Warm-up (JIT, connections, Redis scripts), then rounds that alternate the servers, so a
  // change in the machine's other load hits all alike; medians are reported.
  for (const t of Object.values(targets)) await load(t.url, t.pids);
  const runs = Object.fromEntries(
    Object.keys(targets).map((name) => [name, { paced: [] as Figures[], saturated: [] as Figures[] }]),
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, t] of Object.entries(targets)) {
      runs[name]!.saturated.push(await load(t.url, t.pids));
      runs[name]!.paced.push(await load(t.url, t.pids, RATE));
    }
    console.error(`round ${round}/${ROUNDS} done`);
  }
  const summary = (name: string) => ({
    paced: summarize(runs[name]!.paced),
    saturated: summarize(runs[name]!.saturated),
  });
  const base = summary('baseline');
  const ours = summary('backend');

  const ms = (v: number) => `${v.toFixed(2).padStart(7)} ms`;
  const row = (label: string, f: Figures) =>
    `  ${label.padEnd(16)} p50 ${ms(f.p50)}  p99 ${ms(f.p99)}  ${f.rps.toFixed(0).padStart(6)} req/s  ` +
    `cpu/req ${f.serverCpuMs.toFixed(3)} ms + redis ${f.redisCpuMs.toFixed(3)} ms (load generator ${f.loadCpuMs.toFixed(3)} ms)  ` +
    `non-2xx ${f.non2xx}  errors ${f.errors}`;
  console.log(
    `webhook intake: pull_request.synchronize (${(JSON.stringify(template).length / 1024).toFixed(0)} KB), ` +
      `${ROUNDS} alternating rounds of ${SECONDS} s, medians; ` +
      `load average ${startLoad.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end, on ${cpus().length} CPUs`,
  );
  console.log('baseline: node:http + HMAC verification + 1 Redis write');
  console.log(row(`${RATE} req/s`, base.paced));
  console.log(row(`saturated (${CONNECTIONS} c)`, base.saturated));
  console.log('backend: services/backend/dist/main.js');
  console.log(row(`${RATE} req/s`, ours.paced));
  console.log(row(`saturated (${CONNECTIONS} c)`, ours.saturated));
  if (COMPARE) {
    const other = summary('compared');
    console.log(`compared: ${COMPARE}`);
    console.log(row(`${RATE} req/s`, other.paced));
    console.log(row(`saturated (${CONNECTIONS} c)`, other.saturated));
    console.log(
      `  backend / compared: throughput ${(ours.saturated.rps / other.saturated.rps).toFixed(2)}, ` +
        `cpu per request ${(other.saturated.serverCpuMs / ours.saturated.serverCpuMs).toFixed(2)} (compared / backend)`,
    );
  }
  console.log('backend / baseline');
  console.log(`  throughput (saturated)   ${(ours.saturated.rps / base.saturated.rps).toFixed(2)}   target >= 0.70`);
  console.log(
    `  cpu per request          ${(base.saturated.serverCpuMs / ours.saturated.serverCpuMs).toFixed(2)}   (baseline / backend, server process)`,
  );
  // With the load generator, server and Redis on the same CPUs, this bounds the throughput ratio.
  const all = (f: Figures) => f.serverCpuMs + f.redisCpuMs + f.loadCpuMs;
  console.log(
    `  cpu per request, all     ${(all(base.saturated) / all(ours.saturated)).toFixed(2)}   (baseline / backend, server + redis + load generator)`,
  );
  console.log(
    `  p99 at ${RATE} req/s        ${ours.paced.p99.toFixed(2)} ms (baseline ${base.paced.p99.toFixed(2)} ms)   target < 5 ms`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await redis.stop();
}
