// `npm start` on a machine without a cluster: the standalone mode boots backend and worker with
// the local runner and its own redis-server, takes a signed webhook and posts the review.
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ANTHROPIC_API_KEY,
  API_TOKEN,
  APP_ID,
  delivery,
  ensureBuilt,
  pullRequestPayload,
  sendWebhook,
  WEBHOOK_SECRET,
  World,
} from '@kritik/e2e';
import { freePorts, type ManagedProcess, redisAnswers, repoRoot, startProcess, waitUntil } from '@kritik/testing';

jest.setTimeout(180_000);

const MAIN = () => join(repoRoot(), 'packages', 'standalone', 'dist', 'main.js');

describe('Kritik standalone', () => {
  let world: World;
  let dir: string;

  beforeAll(async () => {
    ensureBuilt();
    world = await World.start({ anthropicApiKey: ANTHROPIC_API_KEY });
    dir = mkdtempSync(join(tmpdir(), 'kritik-e2e-standalone-'));
  });
  afterAll(async () => {
    await world?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots with a local redis-server and posts a review for a pull request webhook', async () => {
    const [port, workerPort] = (await freePorts(2)) as [number, number];
    const sut: ManagedProcess = startProcess('standalone', process.execPath, [MAIN()], {
      logFile: join(dir, 'standalone.log'),
      cwd: repoRoot(),
      env: standaloneEnv(world, dir, port, workerPort),
    });
    try {
      const backendUrl = `http://127.0.0.1:${port}`;
      await waitUntil(
        'the standalone to say it is running',
        async () => (sut.tail(200).includes('Kritik is running') ? true : undefined),
        {
          timeoutMs: 90_000,
          intervalMs: 200,
          proc: sut,
        },
      );
      expect(sut.tail(200)).toContain('started a local redis-server');
      const pr = world.openPullRequest();

      const answer = await sendWebhook(
        backendUrl,
        WEBHOOK_SECRET,
        delivery('pull_request', pullRequestPayload('opened', pr)),
      );

      expect(answer).toMatchObject({ status: 202, body: { status: 'queued' } });
      const record = await waitUntil(
        'the review to end',
        async () => {
          const response = await fetch(`${backendUrl}/api/reviews/${answer.body.reviewId}`, {
            headers: { authorization: `Bearer ${API_TOKEN}` },
          });
          const body = (await response.json()) as { status?: string; reason?: string };
          return ['posted', 'skipped', 'failed'].includes(body.status ?? '') ? body : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 250, proc: sut },
      );
      expect({ status: record.status, reason: record.reason }).toEqual({ status: 'posted' });
      expect(world.reviews(pr)).toEqual([
        expect.objectContaining({ commit_id: pr.headSha, comments: [expect.objectContaining({ line: 2 })] }),
      ]);
      expect(world.checkRuns(pr)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'neutral' })]);
    } finally {
      await sut.stop(15_000);
    }
    await expect(sut.exited).resolves.toEqual({ code: 0, signal: null });
    // Stopped in order (services, then Redis): no service saw Redis go away.
    expect(sut.tail(400)).not.toMatch(/ECONNREFUSED|Connection is closed/);
    expect(sut.tail(400)).toContain('stopping: the services first, then Redis');
  });

  it('refuses to start without REDIS_URL or redis-server and says how to get one', async () => {
    const sut = await runMain({
      PATH: '/nonexistent',
      HOME: dir,
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_PRIVATE_KEY: world.privateKeyPem,
    });

    expect(sut.code).toBe(1);
    expect(sut.output).toContain('REDIS_URL is not set and redis-server is not on PATH');
    expect(sut.output).toContain('apt-get install redis-server');
  });

  it('names every missing setting of every service in one pass, with export lines, and exits 2', async () => {
    const sut = await runMain({ PATH: process.env.PATH, HOME: dir, KRITIK_LOG_FORMAT: 'pretty' });

    expect(sut.code).toBe(2);
    expect(sut.output).toContain('backend:\n  - GITHUB_WEBHOOK_SECRET: is required');
    expect(sut.output).toContain('worker:\n  - GITHUB_APP_ID: is required\n  - GITHUB_APP_PRIVATE_KEY: is required');
    for (const name of ['GITHUB_WEBHOOK_SECRET', 'GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY'])
      expect(sut.output).toContain(`export ${name}=…`);
    expect(sut.output).not.toContain('started a local redis-server');
  });
});

describe('Kritik standalone, Ctrl-C during a review', () => {
  let world: World;
  let dir: string;

  beforeAll(async () => {
    ensureBuilt();
    world = await World.start({ anthropicApiKey: ANTHROPIC_API_KEY });
    dir = mkdtempSync(join(tmpdir(), 'kritik-e2e-ctrl-c-'));
  });
  afterAll(async () => {
    await world?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops every process in order, and the next start concludes the interrupted check run', async () => {
    const [port, workerPort] = (await freePorts(2)) as [number, number];
    const env = { ...standaloneEnv(world, dir, port, workerPort), KRITIK_LOG_FORMAT: 'json', KRITIK_DEBOUNCE_MS: '0' };
    const backendUrl = `http://127.0.0.1:${port}`;
    const pr = world.openPullRequest();
    // The model answers the first review late: Ctrl-C comes while it runs.
    world.anthropic.delayNext(60_000);

    const first = startInTerminal(env, join(dir, 'first.log'));
    await waitUntil('Kritik to run', async () => (first.log().includes('Kritik is running') ? true : undefined), {
      timeoutMs: 90_000,
    });
    const redisPort = Number(/"redisUrl":"redis:\/\/127\.0\.0\.1:(\d+)"/.exec(first.log())?.[1]);
    await sendWebhook(backendUrl, WEBHOOK_SECRET, delivery('pull_request', pullRequestPayload('opened', pr)));
    await waitUntil(
      'the review to be in progress and waiting for the model',
      async () =>
        world.checkRuns(pr).some((run) => run.status === 'in_progress') && world.anthropic.messageRequests().length > 0
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );

    process.kill(-first.pid, 'SIGINT'); // what a terminal's Ctrl-C does: the whole foreground group

    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(groupAlive(first.pid)).toBe(false);
    expect(await redisAnswers(redisPort)).toBe(false);
    expect(first.log()).not.toMatch(/ECONNREFUSED|Connection is closed/);

    const second = startInTerminal(env, join(dir, 'second.log'));
    try {
      await waitUntil(
        'the interrupted review to end',
        async () => (world.checkRuns(pr).every((run) => run.status === 'completed') ? true : undefined),
        { timeoutMs: 90_000, intervalMs: 250 },
      );
      expect(world.checkRuns(pr).map((run) => run.status)).toEqual(['completed']);
    } finally {
      process.kill(-second.pid, 'SIGINT');
      await second.exited;
    }
  });
});

/** The environment a user sets for `npm start`, pointed at the world's fakes. */
function standaloneEnv(world: World, dir: string, port: number, workerPort: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    KRITIK_DATA_DIR: join(dir, 'data'),
    PORT: String(port),
    KRITIK_WORKER_PORT: String(workerPort),
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    KRITIK_API_TOKEN: API_TOKEN,
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_APP_PRIVATE_KEY: world.privateKeyPem,
    GITHUB_API_URL: world.github.url,
    ANTHROPIC_API_KEY,
    ANTHROPIC_BASE_URL: world.anthropic.url,
  };
}

/** Starts the standalone as a shell starts a foreground job: in a process group of its own. */
function startInTerminal(env: NodeJS.ProcessEnv, logFile: string) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [MAIN()], { env, cwd: repoRoot(), detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { pid: child.pid!, exited, log: () => readFileSync(logFile, 'utf8') };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function runMain(env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [MAIN()], { env }, (error, stdout, stderr) =>
      done({ code: typeof error?.code === 'number' ? error.code : 0, output: stdout + stderr }),
    );
  });
}
