// Runs a review as a child process of the worker, for the standalone mode without a cluster: the
// same env the Job would get, a temp termination-message file, and the same deadline. The child
// gets an explicit environment, never the worker's own (which holds the App private key).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CODE_HOST_ENV,
  ENV,
  PROVIDER_CREDENTIAL_ENV,
  REVIEW_DEADLINE_ENV,
  type ReviewJobSettings,
  reviewerDeadlineSeconds,
} from '@kritik/core';
import { parseReviewResult } from './review-result.js';
import {
  type ExistingRun,
  type ReviewRunner,
  type RunOutcome,
  type RunRequest,
  TIMEOUT_REASON,
} from './review-runner.js';

export interface LocalRunnerOptions {
  /** Program and arguments of the reviewer, e.g. `[node, services/reviewer/dist/main.js, job]`. */
  readonly command: readonly string[];
  readonly settings: Pick<ReviewJobSettings, 'activeDeadlineSeconds' | 'env'>;
  /** Given to the reviewer as ANTHROPIC_API_KEY when it calls the model directly. */
  readonly anthropicApiKey?: string;
  /** Time between SIGTERM and SIGKILL when a review is stopped. */
  readonly killGraceMs?: number;
}

const OUTPUT_TAIL = 64 * 1024;

/** The line of a crash's stderr that says what went wrong: the first error line, else the last line. */
function crashLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /^(\w*Error|kritik:)/.test(l)) ?? lines.at(-1) ?? '';
}
/** Variables a child needs to run at all; nothing else is inherited. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'TZ', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'];

export class LocalProcessRunner implements ReviewRunner {
  readonly kind = 'local' as const;
  private readonly running = new Map<string, () => void>();

  constructor(
    private readonly options: LocalRunnerOptions,
    private readonly baseEnv: NodeJS.ProcessEnv,
  ) {
    if (options.command.length === 0) throw new Error('the local runner needs a reviewer command');
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    if (request.signal.aborted) return { kind: 'cancelled' };
    if (request.detach?.aborted) return { kind: 'detached' };
    const dir = await mkdtemp(join(tmpdir(), 'kritik-review-'));
    const terminationLog = join(dir, 'termination-log');
    try {
      const exit = await this.spawnReviewer(request, terminationLog);
      if (exit.how === 'cancelled') return { kind: 'cancelled' };
      // A child cannot outlive the worker's interest in it: it is stopped, and run again by whoever
      // picks the review up.
      if (exit.how === 'detached') return { kind: 'detached' };
      if (exit.how === 'timeout') {
        return { kind: 'failed', reason: TIMEOUT_REASON, detail: 'the reviewer did not finish within its deadline' };
      }
      const message = await readFile(terminationLog, 'utf8').catch(() => undefined);
      const result = parseReviewResult(message) ?? parseReviewResult(exit.stdout);
      if (result) return { kind: 'reported', result };
      const stderr = crashLine(exit.stderr);
      return {
        kind: 'failed',
        reason: `the reviewer ended without a result (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}${stderr ? `: ${stderr.slice(0, 300)}` : ''})`,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async listRuns(): Promise<ExistingRun[]> {
    return [];
  }

  async discard(reviewId: string): Promise<void> {
    this.running.get(reviewId)?.();
  }

  private env(request: RunRequest, terminationLog: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    // A reviewer that calls a cloud provider itself signs with the worker's own cloud credentials,
    // as it gets the worker's Anthropic key; through the gateway it needs neither.
    const inherited = request.model.kind === 'direct' ? [...INHERITED, ...PROVIDER_CREDENTIAL_ENV] : INHERITED;
    for (const name of inherited) if (this.baseEnv[name] !== undefined) env[name] = this.baseEnv[name];
    Object.assign(env, this.options.settings.env);
    env[ENV.review] = JSON.stringify(request.payload);
    const host = CODE_HOST_ENV[request.payload.platform];
    env[host.token] = request.token;
    env[host.url] = request.payload.apiUrl;
    env[ENV.terminationLog] = terminationLog;
    env[REVIEW_DEADLINE_ENV] = String(reviewerDeadlineSeconds(this.options.settings.activeDeadlineSeconds));
    const { model } = request;
    Object.assign(env, model.env);
    const key = model.kind === 'gateway' ? model.token : this.options.anthropicApiKey;
    if (key) env[ENV.anthropicApiKey] = key;
    if (model.baseUrl) env[ENV.anthropicBaseUrl] = model.baseUrl;
    return env;
  }

  private spawnReviewer(request: RunRequest, terminationLog: string) {
    const [program, ...args] = this.options.command as [string, ...string[]];
    return new Promise<{
      how: 'exited' | 'timeout' | 'cancelled' | 'detached';
      code: number | null;
      signal: NodeJS.Signals | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(program, args, { env: this.env(request, terminationLog), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let how: 'exited' | 'timeout' | 'cancelled' | 'detached' = 'exited';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout = (stdout + chunk).slice(-OUTPUT_TAIL);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-OUTPUT_TAIL);
      });
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: 'timeout' | 'cancelled' | 'detached') => {
        if (how !== 'exited' || child.exitCode !== null) return;
        how = why;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), this.options.killGraceMs ?? 5_000);
      };
      const deadline = setTimeout(() => stop('timeout'), this.options.settings.activeDeadlineSeconds * 1000);
      const onAbort = () => stop('cancelled');
      const onDetach = () => stop('detached');
      request.signal.addEventListener('abort', onAbort);
      request.detach?.addEventListener('abort', onDetach);
      this.running.set(request.payload.reviewId, onAbort);
      child.once('spawn', () => request.onDispatched?.('created'));
      child.once('error', (err) => {
        clearTimeout(deadline);
        request.signal.removeEventListener('abort', onAbort);
        request.detach?.removeEventListener('abort', onDetach);
        this.running.delete(request.payload.reviewId);
        reject(new Error(`cannot start the reviewer (${program}): ${err.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(deadline);
        clearTimeout(killTimer);
        request.signal.removeEventListener('abort', onAbort);
        request.detach?.removeEventListener('abort', onDetach);
        this.running.delete(request.payload.reviewId);
        resolve({ how, code, signal, stdout, stderr });
      });
    });
  }
}
