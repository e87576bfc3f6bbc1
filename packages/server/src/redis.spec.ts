// createRedis against real redis-servers set up as production runs them: an ACL user with only
// the permissions docs/operations.md lists, TLS with a private CA, and Sentinel with a failover.

import type { TLSSocket } from 'node:tls';
import { startRedis, startSentinelSet, type TestRedis, type TestSentinelSet, waitUntil } from '@kritik/testing';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createLogger, type Logger } from './logger.js';
import { createRedis, loginRefusal } from './redis.js';
import { type RedisSettings, redisSettingsSchema } from './redis-connection.js';

/** The ACL rule of docs/operations.md ("Redis in production"), with the password appended. */
const KRITIK_ACL = ['on', '~kritik:*', '~bull:*', '+@all', '-@dangerous', '+info'];
const HOSTILE_PASSWORD = 'p@ss:w/rd#%?&=ü\'"';

interface Captured {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
}

function capturedLogger(): Captured {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

describe(createRedis.name, () => {
  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const part of open.splice(0).reverse()) await part.close().catch(() => undefined);
  });

  function connect(settings: RedisSettings, logger?: Logger): Redis {
    const redis = createRedis({ connection: redisSettingsSchema.parse(settings), name: 'spec', logger });
    open.push({ close: async () => redis.disconnect() });
    return redis;
  }

  /** A BullMQ queue and worker on `redis` (the worker duplicates it for its blocking reads). */
  function queueOn(redis: Redis) {
    const name = `spec-${Math.random().toString(36).slice(2)}`;
    const processed: string[] = [];
    const queue = new Queue(name, { connection: redis });
    const worker = new Worker(
      name,
      async (job: Job<{ id: string }>) => {
        processed.push(job.data.id);
      },
      { connection: redis },
    );
    queue.on('error', () => undefined);
    worker.on('error', () => undefined);
    open.push(queue, worker);
    const add = (id: string) => queue.add('review', { id }, { jobId: id });
    const processedSoon = (id: string, timeoutMs = 15_000) =>
      waitUntil(`job ${id} to be processed`, async () => (processed.includes(id) ? true : undefined), {
        timeoutMs,
        intervalMs: 50,
      });
    return { add, processedSoon };
  }

  describe('with an ACL user', () => {
    let server: TestRedis;
    beforeAll(async () => {
      server = await startRedis({
        extraArgs: ['--user', 'default', 'off', '--user', 'kritik', ...KRITIK_ACL, `>${HOSTILE_PASSWORD}`],
      });
    });
    afterAll(() => server?.stop());

    it('enqueues and processes a job with only the documented permissions, the password given in the URL', async () => {
      const redis = connect({ url: `redis://kritik:${encodeURIComponent(HOSTILE_PASSWORD)}@127.0.0.1:${server.port}` });
      const sut = queueOn(redis);

      await sut.add('review-1');
      await sut.processedSoon('review-1');
      await redis.set('kritik:spec', 'ok');

      expect(await redis.get('kritik:spec')).toBe('ok');
      expect(await redis.acl('WHOAMI')).toBe('kritik');
      // The rule is a real restriction: keys of other applications stay out of reach.
      await expect(redis.set('other-app:key', 'x')).rejects.toThrow(/NOPERM/);
    });

    it('logs in with KRITIK_REDIS_USERNAME and KRITIK_REDIS_PASSWORD as given, unencoded', async () => {
      const redis = connect({ url: server.url, username: 'kritik', password: HOSTILE_PASSWORD });

      await waitUntil('the connection', async () => (redis.status === 'ready' ? true : undefined), {
        timeoutMs: 5_000,
      });
      expect(await redis.acl('WHOAMI')).toBe('kritik');
    });

    it('reports a wrong password as an error naming the settings to fix, without the password', async () => {
      const { logger, lines } = capturedLogger();
      const wrong = 'not-the-password-%41';
      const redis = connect({ url: server.url, username: 'kritik', password: wrong }, logger);

      const line = await waitUntil('the refusal in the log', async () => lines.find((l) => l.level === 'error'), {
        timeoutMs: 5_000,
      });

      expect(line.msg).toBe(
        'redis refused the login: wrong user or password (check KRITIK_REDIS_USERNAME/KRITIK_REDIS_PASSWORD or the user and password in REDIS_URL)',
      );
      expect(JSON.stringify(lines)).not.toContain(wrong);
      expect(redis.status).not.toBe('ready');
    });
  });

  describe('over TLS', () => {
    let server: TestRedis;
    beforeAll(async () => {
      server = await startRedis({ tls: true, extraArgs: ['--requirepass', HOSTILE_PASSWORD] });
    });
    afterAll(() => server?.stop());

    it('connects to rediss:// trusting the CA of KRITIK_REDIS_CA_FILE, and BullMQ works over it', async () => {
      const redis = connect({ url: server.url, password: HOSTILE_PASSWORD, caFile: server.tls!.caFile });
      const sut = queueOn(redis);

      await sut.add('review-tls');
      await sut.processedSoon('review-tls');
      expect(await redis.ping()).toBe('PONG');
    });

    it('refuses a server whose certificate the system CAs do not sign', async () => {
      const { logger, lines } = capturedLogger();
      const redis = connect({ url: server.url, password: HOSTILE_PASSWORD }, logger);

      const line = await waitUntil('the TLS error in the log', async () => lines.find((l) => l.level === 'warn'), {
        timeoutMs: 5_000,
      });

      expect(line.err).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      expect(redis.status).not.toBe('ready');
    });

    it('refuses plain text to a TLS port', async () => {
      const { logger, lines } = capturedLogger();
      const redis = connect({ url: `redis://127.0.0.1:${server.port}`, password: HOSTILE_PASSWORD }, logger);

      await waitUntil('a connection error in the log', async () => lines.find((l) => l.level === 'warn'), {
        timeoutMs: 5_000,
      });
      expect(redis.status).not.toBe('ready');
    });
  });

  describe('when its master is demoted', () => {
    let servers: TestRedis[];
    beforeAll(async () => {
      servers = await Promise.all([startRedis(), startRedis()]);
    });
    afterAll(() => Promise.all(servers.map((s) => s.stop())));

    it('reconnects on READONLY, so the next command reaches whatever the address names now', async () => {
      const [old, other] = servers as [TestRedis, TestRedis];
      const redis = connect({ url: old.url });
      await waitUntil('the connection', async () => (redis.status === 'ready' ? true : undefined), {
        timeoutMs: 5_000,
      });
      const before = await redis.client('ID');
      const admin = connect({ url: old.url });
      await waitUntil('the admin connection', async () => (admin.status === 'ready' ? true : undefined), {
        timeoutMs: 5_000,
      });
      // A failover as a managed endpoint sees it: the old master becomes a replica.
      await admin.replicaof(other.host, String(other.port));

      await expect(redis.set('kritik:spec', 'x')).rejects.toThrow(/READONLY/);
      await admin.replicaof('NO', 'ONE');

      await waitUntil(
        'a write on a fresh connection',
        async () => ((await redis.set('kritik:spec', 'y').catch(() => undefined)) ? true : undefined),
        { timeoutMs: 5_000, intervalMs: 50 },
      );
      expect(await redis.client('ID')).not.toBe(before);
    });
  });

  describe('through Sentinel', () => {
    let set: TestSentinelSet;
    beforeAll(async () => {
      set = await startSentinelSet({ password: HOSTILE_PASSWORD, sentinelPassword: 'sentinel-secret' });
    }, 60_000);
    afterAll(() => set?.stop());

    it('keeps enqueuing and processing after the master is killed and the replica promoted', async () => {
      const { logger, lines } = capturedLogger();
      const redis = connect(
        {
          sentinels: [set.sentinel],
          sentinelName: set.masterName,
          sentinelPassword: 'sentinel-secret',
          password: HOSTILE_PASSWORD,
        },
        logger,
      );
      const sut = queueOn(redis);
      await sut.add('before-failover');
      await sut.processedSoon('before-failover');
      expect(await serverPort(redis)).toBe(set.master.port);

      await set.master.kill();
      await waitUntil(
        'the sentinel to promote the replica',
        async () => ((await set.masterAddress()) === `127.0.0.1:${set.replica.port}` ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      // Commands fail fast while the connection moves (the offline queue is off), so the
      // producer retries as the backend's callers do.
      await waitUntil(
        'an enqueue to be accepted by the new master',
        async () => ((await sut.add('after-failover').catch(() => undefined)) ? true : undefined),
        { timeoutMs: 15_000, intervalMs: 100 },
      );

      await sut.processedSoon('after-failover', 20_000);
      expect(await serverPort(redis)).toBe(set.replica.port);
      // The log says where the connection went, and never a password.
      expect(lines.filter((l) => l.msg === 'redis connection ready').map((l) => l.at)).toEqual([
        `127.0.0.1:${set.master.port}`,
        `127.0.0.1:${set.replica.port}`,
      ]);
      expect(JSON.stringify(lines)).not.toContain('sentinel-secret');
      // (its first characters: JSON escapes the quotes at its end)
      expect(JSON.stringify(lines)).not.toContain(HOSTILE_PASSWORD.slice(0, 11));
    }, 90_000);
  });
});

describe(`${createRedis.name} through Sentinel over TLS`, () => {
  let set: TestSentinelSet;
  let redis: Redis | undefined;
  beforeAll(async () => {
    set = await startSentinelSet({ tls: true, password: HOSTILE_PASSWORD });
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await set?.stop();
  });

  it('asks the sentinels and talks to the master over TLS, trusting KRITIK_REDIS_CA_FILE', async () => {
    redis = createRedis({
      connection: redisSettingsSchema.parse({
        sentinels: [set.sentinel],
        sentinelName: set.masterName,
        password: HOSTILE_PASSWORD,
        tls: true,
        caFile: set.tls!.caFile,
      }),
    });

    await waitUntil('the connection', async () => (redis?.status === 'ready' ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(await redis.set('kritik:spec', 'tls')).toBe('OK');
    expect(await serverPort(redis)).toBe(set.master.port);
    expect((redis.stream as TLSSocket).encrypted).toBe(true);
  });
});

async function serverPort(redis: Redis): Promise<number> {
  return Number(/tcp_port:(\d+)/.exec(await redis.info('server'))?.[1]);
}

describe(loginRefusal.name, () => {
  it.each([
    ['WRONGPASS invalid username-password pair or user is disabled.', /wrong user or password/],
    ['NOAUTH Authentication required.', /requires a password/],
    ['Ready check failed: NOPERM User kritik has no permissions to run the info command', /lacks a permission/],
  ])('explains %s', (message, explanation) => {
    expect(loginRefusal(new Error(message))).toMatch(explanation);
  });

  it('leaves other errors alone', () => {
    expect(loginRefusal(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBeUndefined();
  });
});
