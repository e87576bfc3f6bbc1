// What the webhook bench and profile share: arguments, the backend's entry point, signed
// deliveries of a real-shaped payload, and waiting for a server to answer.
import type { ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const backendMain = join(root, 'services/backend/dist/main.js');
export const SECRET = 'bench-webhook-secret-0123456789';

// A real-shaped synchronize payload; each request names another pull request and head (the
// common case: bursts on one pull request are coalesced, see the backend's tests).
export const template = JSON.parse(
  readFileSync(join(root, 'services/backend/test/fixtures/pull_request.synchronize.json'), 'utf8'),
);
let counter = 0;
export function nextRequest() {
  counter += 1;
  template.number = counter;
  template.pull_request.number = template.number;
  template.pull_request.head.sha = counter.toString(16).padStart(40, 'a');
  const body = JSON.stringify(template);
  return {
    method: 'POST' as const,
    path: '/webhooks/github',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'pull_request',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
    body,
  };
}

export function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const poll = async () => {
      if (child.exitCode !== null) return reject(new Error(`server exited with ${child.exitCode}`));
      try {
        if ((await fetch(url)).ok) return resolve();
      } catch {}
      if (Date.now() > deadline) return reject(new Error(`${url} did not answer`));
      setTimeout(poll, 100);
    };
    void poll();
  });
}

export function pidOfRedis(port: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('redis-server') && cmdline.includes(`:${port}`) && !cmdline.includes('setpriv'))
        return Number(entry);
    } catch {}
  }
  throw new Error(`no redis-server on port ${port}`);
}

/** CPU milliseconds (user + kernel) of each thread of a process, by thread name. */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      const key = Number(tid) === pid ? 'main' : name;
      out.set(key, (out.get(key) ?? 0) + ms);
    } catch {}
  }
  return out;
}
