// CPU profile of the backend's webhook path: runs services/backend/dist/main.js under
// `node --cpu-prof` against a real Redis, loads it with signed synchronize deliveries, and
// prints where its CPU went (self time by function and by package). Needs `npm run build`.
// Also prints CPU per request of the backend and of redis-server (from /proc) and the Redis
// commands per delivery; `--profile 0` measures without the profiler's own overhead.
// BACKEND_NODE_FLAGS adds node flags to the backend (e.g. --trace-gc), BACKEND_STDOUT=1 shows its output.
//   npm run bench:webhooks:profile -w bench -- [--seconds 10 --connections 10 --rate 0 --top 40 --profile 1]
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis } from '@kritik/testing';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { cpuSplitMs, numberOption } from '../measure.js';
import { backendMain, nextRequest, pidOfRedis, SECRET, threadCpuMs, waitForHttp } from './load.js';

const SECONDS = numberOption('seconds', 10);
const CONNECTIONS = numberOption('connections', 10);
const TOP = numberOption('top', 40);
const PROFILE = numberOption('profile', 1) !== 0;
// Paced load (requests per second over all connections) instead of saturating.
const RATE = numberOption('rate', 0);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which package (or our workspace) a script URL belongs to. */
function owner(url: string): string {
  if (!url) return '(native/gc)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const workspace = /\/(services|packages)\/([^/]+)\//.exec(url);
  return workspace ? `@kritik/${workspace[2]}` : url;
}

const dir = mkdtempSync(join(tmpdir(), 'kritik-prof-'));
// The wrapper exits normally on a message (Nest re-raises termination signals, and a process
// killed by a signal writes no profile).
const wrapper = join(dir, 'run.mjs');
writeFileSync(
  wrapper,
  `process.on('message', () => process.exit(0));\nawait import(${JSON.stringify(backendMain)});\n`,
);

const redis = await startRedis();
try {
  const port = await freePort();
  const backend = fork(wrapper, [], {
    execArgv: [
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
      ...(process.env.BACKEND_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
    env: {
      ...process.env,
      REDIS_URL: redis.url,
      GITHUB_WEBHOOK_SECRET: SECRET,
      PORT: String(port),
      KRITIK_HOST: '127.0.0.1',
      KRITIK_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', process.env.BACKEND_STDOUT ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
  await waitForHttp(`http://127.0.0.1:${port}/ready`, backend);
  const redisPid = pidOfRedis(redis.port);
  const stats = new Redis(redis.url);
  await stats.config('RESETSTAT');
  const before = { backend: cpuSplitMs(backend.pid!), redis: cpuSplitMs(redisPid), threads: threadCpuMs(backend.pid!) };
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/webhooks/github`,
    connections: RATE ? Math.max(1, Math.round(RATE / 100)) : CONNECTIONS,
    duration: SECONDS,
    ...(RATE ? { overallRate: RATE } : {}),
    requests: [{ setupRequest: () => nextRequest() }],
  });
  const total = result.requests.total || 1;
  console.log(`${result.requests.total} requests, ${result.requests.average} req/s, non-2xx ${result.non2xx}`);
  const { p50, p90, p99, max } = result.latency;
  console.log(`latency ms: p50 ${p50}, p90 ${p90}, p99 ${p99}, max ${max}`);
  const split = (pid: number, from: { user: number; system: number }) => {
    const now = cpuSplitMs(pid);
    const user = (now.user - from.user) / total;
    const system = (now.system - from.system) / total;
    return `${(user + system).toFixed(3)} ms (user ${user.toFixed(3)}, kernel ${system.toFixed(3)})`;
  };
  console.log(`cpu/req: backend ${split(backend.pid!, before.backend)}; redis ${split(redisPid, before.redis)}`);
  const threads = [...threadCpuMs(backend.pid!)]
    .map(([name, ms]) => [name, (ms - (before.threads.get(name) ?? 0)) / total] as const)
    .filter(([, ms]) => ms > 0)
    .map(([name, ms]) => `${name} ${ms.toFixed(3)}`);
  console.log(`backend threads (ms/req): ${threads.join(', ')}`);
  console.log('redis commands per request (calls, usec per call)');
  for (const line of (await stats.info('commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match && Number(match[2]) >= total / 20)
      console.log(
        `  ${match[1]!.padEnd(20)} ${(Number(match[2]) / total).toFixed(2).padStart(6)}  ${(Number(match[3]) / Number(match[2])).toFixed(1)}`,
      );
  }
  stats.disconnect();
  const exited = new Promise((resolve) => backend.once('exit', resolve));
  backend.send('exit');
  await exited;
  if (PROFILE) report(dir, total);
} finally {
  await redis.stop();
  // The profile is this bench's output (its path is printed): kept; without one, nothing is.
  if (!PROFILE) rmSync(dir, { recursive: true, force: true });
}

function report(dir: string, total: number) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const sampled = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self]
    .filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')
    .reduce((a, [, t]) => a + t, 0);
  const busy = sampled - idle;
  const perRequest = (us: number) => `${(us / 1000 / total).toFixed(4)} ms/req`;
  // Wall time on the main thread: a sample taken while the machine ran something else counts
  // for the function it interrupted (often a socket write that woke redis-server).
  console.log(`profiled busy ${(busy / 1e6).toFixed(2)} s of ${(sampled / 1e6).toFixed(2)} s: ${perRequest(busy)}`);

  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, time] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + time);
    packages.set(owner(url), (packages.get(owner(url)) ?? 0) + time);
  }
  const show = (title: string, rows: Map<string, number>, limit: number) => {
    console.log(title);
    for (const [name, time] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      console.log(`  ${((100 * time) / busy).toFixed(1).padStart(5)}%  ${perRequest(time)}  ${name}`);
    }
  };
  show('self time by package', packages, 25);
  show('self time by function', functions, TOP);
  console.log(`profile: ${join(dir, file)}`);
}
