// Unauthenticated senders against the built backend, as a real process: big unsigned bodies on
// many connections, a body that never finishes, more bodies than allowed at once. The process's
// peak resident memory (VmHWM) is what the bounds are for.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type ManagedProcess, startProcess, startRedis, type TestRedis, waitUntil } from '@kritik/testing';
import { fixture, SECRET, sign } from './backend.harness.js';

const root = join(__dirname, '..', '..', '..');
const MiB = 1024 * 1024;

/** Peak and current resident memory of a process, from the kernel. */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

/** POSTs `size` unsigned bytes in 64 KiB chunks as fast as the server reads them; the status it got. */
function unsignedBody(port: number, size: number): Promise<number | 'reset'> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhooks/github',
        headers: {
          'content-type': 'application/json',
          'content-length': size,
          'x-github-event': 'pull_request',
          'x-github-delivery': `attack-${Math.random()}`,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve('reset'));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(sent > size ? chunk.subarray(0, chunk.length - (sent - size)) : chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('unverified webhook bodies against the built backend', () => {
  let redis: TestRedis;
  let backend: ManagedProcess;
  let port: number;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'services/backend'], {
      cwd: root,
    });
    redis = await startRedis();
    port = await freePort();
    backend = startProcess('backend', process.execPath, [join(root, 'services/backend/dist/main.js')], {
      logFile: join(tmpdir(), `kritik-backend-unverified-${process.pid}.log`),
      cwd: root,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        KRITIK_HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        GITHUB_WEBHOOK_SECRET: SECRET,
        KRITIK_LOG_LEVEL: 'error',
        KRITIK_WEBHOOK_BODY_TIMEOUT_MS: '1500',
        KRITIK_WEBHOOK_MAX_UNVERIFIED_BODIES: '24',
      },
    });
    await waitUntil(
      'backend /ready',
      async () => ((await fetch(`http://127.0.0.1:${port}/ready`)).ok ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 100, proc: backend },
    );
  }, 90_000);

  afterAll(async () => {
    await backend?.stop();
    await redis?.stop();
  });

  it('holds at most its unverified-bytes budget while 20 connections send 20 MB unsigned bodies', async () => {
    const before = memoryOf(backend.pid);

    const statuses = await Promise.all(Array.from({ length: 20 }, () => unsignedBody(port, 20 * MiB)));

    const after = memoryOf(backend.pid);
    const grown = after.peak - before.now;
    // 64 MiB of bodies in flight at most (the default), plus Node's own read buffers; unbounded,
    // the same load took the backend to ~550 MB.
    expect(grown).toBeLessThan(128 * MiB);
    expect(new Set(statuses.filter((s) => s !== 401 && s !== 503 && s !== 'reset'))).toEqual(new Set());
    expect(statuses).toContain(503);
  }, 120_000);

  it('answers 408 and closes a body that stops arriving, long before Node would', async () => {
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST /webhooks/github HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
            'x-github-event: ping\r\nx-github-delivery: slow\r\ncontent-length: 1000\r\n\r\n{"zen":',
        );
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
    });

    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a body beyond the number allowed at once, at once, and still takes signed deliveries', async () => {
    const stalled = Array.from({ length: 24 }, () => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          'POST /webhooks/github HTTP/1.1\r\nhost: x\r\nx-github-event: ping\r\ncontent-length: 100\r\n\r\n{',
        ),
      );
      socket.on('error', () => undefined);
      return socket;
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const refused = await fetch(`http://127.0.0.1:${port}/webhooks/github`, {
        method: 'POST',
        headers: { 'x-github-event': 'ping', 'x-github-delivery': 'one-more' },
        body: '{}',
      });
      expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '5']);
    } finally {
      for (const s of stalled) s.destroy();
    }

    const payload = JSON.stringify(fixture('pull_request.opened'));
    const signed = await waitUntil(
      'a signed delivery once the stalled bodies are gone',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'pull_request',
            'x-github-delivery': `signed-${Date.now()}`,
            'x-hub-signature-256': sign(payload),
          },
          body: payload,
        });
        return res.status === 202 ? res.status : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expect(signed).toBe(202);
  });
});
