// The backend and the worker as child processes, started from the same `dist/main.js` their
// container images run, each with the environment the chart would give it: its own port, the
// shared Redis, and only the secrets it needs.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ENV } from '@kritik/core';
import type { StandaloneConfig } from './standalone.config.js';

export const SERVICES = ['backend', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

export class ServiceNotBuiltError extends Error {
  override readonly name = 'ServiceNotBuiltError';
}

/** `node_modules/@kritik/<service>/dist/main.js` found upwards from `from`, as Node resolves packages. */
export function locateServiceMain(service: ServiceName, from: string): string {
  const relative = join('node_modules', '@kritik', service);
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const pkg = join(dir, relative);
    if (existsSync(join(pkg, 'package.json'))) {
      const main = join(realpathSync(pkg), 'dist', 'main.js');
      if (existsSync(main)) return main;
      throw new ServiceNotBuiltError(`${main} does not exist: build it first with \`npm run build\``);
    }
    if (dirname(dir) === dir) break;
  }
  throw new ServiceNotBuiltError(`@kritik/${service} is not installed above ${from}: run \`npm install\``);
}

/** Variables each service must not see: in a cluster they live in Secrets the other one mounts. */
const WITHHELD: Record<ServiceName, readonly string[]> = {
  backend: [ENV.githubAppPrivateKey, ENV.gitlabToken, ENV.anthropicApiKey],
  worker: [ENV.githubWebhookSecret, ENV.gitlabWebhookSecret, ENV.apiToken],
};

/** The environment of each service, derived from the standalone's own. */
export function serviceEnv(
  service: ServiceName,
  config: StandaloneConfig,
  redisUrl: string | undefined,
  source: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...source };
  for (const name of [...WITHHELD[service], ENV.workerPort, ENV.redisServer, ENV.dataDir]) {
    delete env[name];
  }
  if (redisUrl !== undefined) env[ENV.redisUrl] = redisUrl;
  // One bind address for both services: a laptop's loopback unless KRITIK_HOST says otherwise.
  env[ENV.host] = config.host;
  if (service === 'backend') {
    env[ENV.port] = String(config.port);
  } else {
    env[ENV.port] = String(config.workerPort);
    // Standalone means no cluster: the worker runs each reviewer as a child process.
    env[ENV.runner] = source[ENV.runner] || 'local';
  }
  env[ENV.logLevel] = config.logLevel;
  return env;
}

/** util-linux's setpriv: `--pdeathsig` makes the kernel signal a child when its parent dies. */
export const PDEATHSIG = '/usr/bin/setpriv';

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node <main>`; output goes to this process's stdout and stderr, or to `output`. Where
 * setpriv exists the kernel kills the child if this process dies, so no service outlives it.
 */
export function startService(
  name: ServiceName,
  main: string,
  env: NodeJS.ProcessEnv,
  output: 'inherit' | number = 'inherit',
): ServiceProcess {
  const argv = [process.execPath, main];
  const [file, args] = existsSync(PDEATHSIG)
    ? [PDEATHSIG, ['--pdeathsig', 'SIGTERM', '--', ...argv]]
    : [argv[0]!, argv.slice(1)];
  const child = spawn(file, args, { env, stdio: ['ignore', output, output] });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolveExit({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolveExit({ code: -1, signal: null });
    });
  });
  return {
    name,
    child,
    exited,
    running: () => !done,
    async stop(graceMs = 10_000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
