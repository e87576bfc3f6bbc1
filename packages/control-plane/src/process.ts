// Runs a real server binary as a child process for the harness: output goes to a log file whose
// tail is quoted when the server fails, stop() escalates from SIGTERM to SIGKILL, and the child
// dies with the test process even when that is killed abruptly.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const PDEATHSIG = '/usr/bin/setpriv';
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * The command line that runs `command` so that the kernel kills it when this process dies, even
 * by SIGKILL, so no etcd, kube-apiserver or pod process outlives a crashed jest worker. setpriv
 * (util-linux) execs the command, keeping the pid; without it the command runs as is.
 */
export function diesWithParent(command: string, args: readonly string[]): [string, string[]] {
  return existsSync(PDEATHSIG) ? [PDEATHSIG, ['--pdeathsig', 'SIGKILL', '--', command, ...args]] : [command, [...args]];
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  running(): boolean;
  /** The last `lines` lines of the log file. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs` (at once when 0); resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Last `lines` lines of a text file ('' when it does not exist). */
export function tailFile(file: string, lines = 40): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: StartProcessOptions,
): ManagedProcess {
  installExitHook();
  const fd = openSync(options.logFile, 'a');
  const [file, argv] = diesWithParent(command, args);
  let child: ChildProcess;
  try {
    child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolveExit) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      status ??= { code, signal };
      live.delete(child);
      resolveExit(status);
    };
    child.once('exit', done);
    child.once('error', () => done(-1, null));
  });
  return {
    name,
    pid: child.pid ?? -1,
    logFile: options.logFile,
    exited,
    running: () => status === undefined,
    tail: (lines) => tailFile(options.logFile, lines),
    async stop(graceMs = 5_000) {
      if (status !== undefined) return;
      if (graceMs <= 0) {
        child.kill('SIGKILL');
        await exited;
        return;
      }
      child.kill('SIGTERM');
      const escalate = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(escalate);
    },
  };
}

/** Polls `check` until it returns a value, failing early with the log tail if a `proc` exits. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; proc?: ManagedProcess | ManagedProcess[] },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const procs = options.proc === undefined ? [] : [options.proc].flat();
  let lastError: unknown;
  for (;;) {
    const dead = procs.find((proc) => !proc.running());
    if (dead) {
      const { code, signal } = await dead.exited;
      throw new Error(
        `${dead.name} exited (code ${code}, signal ${signal}) while waiting for ${what}; ` +
          `log ${dead.logFile}:\n${dead.tail()}`,
      );
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const log = procs.map((proc) => `; log ${proc.logFile}:\n${proc.tail()}`).join('');
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${reason}${log}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
