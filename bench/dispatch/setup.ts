// What the dispatch bench and the worker memory bench share: their arguments, the world a worker
// runs in (real Redis, the GitHub fake with the bench's App and repositories, the harness control
// plane when Jobs are dispatched), the stand-in reviewer, the reviews they queue and how a worker
// process is started as its image starts it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ENV,
  REVIEWS_QUEUE,
  type ReviewJobSettings,
  type ReviewRequest,
  reviewIdFor,
  reviewJobSettingsSchema,
} from '@kritik/core';
import {
  type ControlPlane,
  FakeGitHub,
  generateAppKeyPair,
  type ManagedProcess,
  postedResult,
  startControlPlane,
  startProcess,
  startRedis,
  type TestRedis,
} from '@kritik/testing';
import { CoreV1Api } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { option } from '../measure.js';
import { type WorkerImage, workerImage } from './worker-image.js';

/** The repository root: the image's WORKDIR, so the worker's paths resolve from it. */
export const root = new URL('../..', import.meta.url).pathname;
/** The worker as its image starts it (node flags and environment of its stage in services/Dockerfile). */
export const image = workerImage(root);

export const REPOS = 10;
const APP_ID = '4242';
const OWNER = 'bench';

/** A way to start the worker: command line and the environment the image adds. */
export type Start = Pick<WorkerImage, 'command' | 'env'>;

/**
 * Other ways to start the same build (`--flags "<set>;<set>"`): in each set, NAME=value words are
 * environment variables (e.g. MALLOC_ARENA_MAX=2), the rest node flags; an empty set ("") is
 * plain `node main.js`.
 */
export function flagSets(): { set: string; label: string; start: Start }[] {
  const value = option('flags');
  if (value === undefined) return [];
  return value.split(';').map((text) => {
    const set = text.trim();
    const words = set.split(/\s+/).filter(Boolean);
    const isEnv = (word: string) => /^[A-Z_]+=/.test(word);
    const env = Object.fromEntries(words.filter(isEnv).map((word) => word.split('=', 2)));
    const command = [process.execPath, ...words.filter((word) => !isEnv(word)), image.script];
    return { set, label: set ? `worker with ${set}` : 'worker as plain node main.js', start: { command, env } };
  });
}

const RESULT = postedResult();
/** Stands in for the reviewer: reports a result at once, so only the worker's own work is measured. */
export const STAND_IN = ['/bin/sh', '-c', 'printf "%s" "$BENCH_RESULT" > "$KRITIK_TERMINATION_LOG"'];

/** Review Job settings that run the stand-in reviewer. */
export function standInSettings(overrides: Partial<ReviewJobSettings> = {}): ReviewJobSettings {
  return reviewJobSettingsSchema.parse({
    image: 'kritik-reviewer:bench',
    command: STAND_IN,
    env: { BENCH_RESULT: JSON.stringify(RESULT) },
    ...overrides,
  });
}

let serial = 0;
/** A new review of a pull request of one of the bench's repositories; `label` keeps ids apart between phases. */
export function reviewOf(label = ''): ReviewRequest {
  serial++;
  const repo = { owner: OWNER, name: `repo-${serial % REPOS}` };
  const headSha = serial.toString(16).padStart(40, '0');
  return {
    reviewId: reviewIdFor('github', repo, serial, label ? `${label}-${headSha}` : headSha).slice(0, 20),
    platform: 'github',
    repo,
    pr: serial,
    headSha,
    trigger: 'synchronize',
    installationId: 1,
    enqueuedAt: new Date().toISOString(),
  };
}

export interface BenchWorld {
  readonly redis: TestRedis;
  readonly github: FakeGitHub;
  readonly privateKey: string;
  readonly plane: ControlPlane | undefined;
  /** Producer connection and the reviews queue, as the backend would enqueue. */
  readonly producer: Redis;
  readonly queue: Queue;
  /** A namespace for review Jobs with the service account they run as. */
  jobsNamespace(name: string, settings: ReviewJobSettings): Promise<void>;
  /** What every worker process gets, besides its runner's settings. */
  workerEnv(config: string): Record<string, string | undefined>;
  stop(): Promise<void>;
}

/** Redis, the GitHub fake (the App and REPOS repositories of one installation) and, with `cluster`, the control plane. */
export async function startBenchWorld(cluster: boolean): Promise<BenchWorld> {
  const keys = generateAppKeyPair();
  const [redis, github, plane] = await Promise.all([
    startRedis(),
    new FakeGitHub().start(),
    cluster ? startControlPlane() : undefined,
  ]);
  github.setApp({ appId: APP_ID, privateKeyPem: keys.privateKeyPem });
  for (let i = 0; i < REPOS; i++) github.addRepo(OWNER, `repo-${i}`);
  github.addInstallation({ id: 1, account: OWNER });
  const producer = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(REVIEWS_QUEUE, { connection: producer });
  return {
    redis,
    github,
    privateKey: keys.privateKeyPem,
    plane,
    producer,
    queue,
    async jobsNamespace(name, settings) {
      if (!plane) throw new Error(`the bench world has no control plane for namespace ${name}`);
      await plane.createNamespace(name);
      await plane
        .adminKubeConfig()
        .makeApiClient(CoreV1Api)
        .createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: settings.serviceAccountName } } });
    },
    workerEnv: (config) => ({
      PATH: process.env.PATH,
      [ENV.redisUrl]: redis.url,
      [ENV.githubAppId]: APP_ID,
      [ENV.githubAppPrivateKey]: keys.privateKeyPem,
      [ENV.githubApiUrl]: github.url,
      [ENV.config]: config,
      [ENV.logLevel]: process.env.BENCH_LOG_LEVEL ?? 'warn',
      ...(plane ? { KUBECONFIG: plane.kubeconfigPath } : {}),
    }),
    async stop() {
      await queue.close();
      producer.disconnect();
      await Promise.all([plane?.stop(), redis.stop(), github.stop()]);
    },
  };
}

/**
 * Starts a worker process named `name` as `start` says (the image's way, or a `--flags` variant),
 * with `config` as its YAML config file and its log in `dir`, and `env` (port, runner) besides
 * the world's variables; the variables of `start` win, as the image's ENV would.
 */
export function startWorkerProcess(
  world: BenchWorld,
  dir: string,
  name: string,
  start: Start,
  config: Record<string, unknown>,
  env: Record<string, string>,
): ManagedProcess {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  return startProcess(`worker-${name}`, start.command[0]!, start.command.slice(1), {
    logFile: join(dir, `worker-${name}.log`),
    // The image's WORKDIR: the entrypoint's paths are relative to the repository root.
    cwd: root,
    env: { ...world.workerEnv(file), ...env, ...start.env },
  });
}
