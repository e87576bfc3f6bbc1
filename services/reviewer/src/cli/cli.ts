// The `kritik` command line: `review` of a pull request or a local diff, and `job`, the mode a
// review Job runs in. Exit codes: 0 done, 1 failed, 2 bad input or configuration, 3 --fail-on met.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ENV, type Platform, type RepoRef } from '@kritik/core';
import { createCodeHost, type HostSettings } from '../code-host/create.js';
import { DEFAULT_RETRY } from '../llm/anthropic.js';
import { createModelPort } from '../llm/providers.js';
import { INSTRUCTION_FILES, type InstructionFile } from '../prompt/prompt.js';
import { type ReviewRun, runReview } from '../review/engine.js';
import { type ClientSettings, type Env, readClientSettings, SettingsError } from '../settings.js';
import { FAIL_ON, type FailOn, FORMATS, type Format, findingsAtOrAbove, renderOutput, type Subject } from './format.js';
import { EXIT, type Io, redact } from './io.js';
import { runJob } from './job.js';
import { POLICY_USAGE, runPolicy } from './policy.js';

export const USAGE = `Usage:
  kritik review <owner/repo#123 | pull or merge request URL> [--dry-run] [--no-checkout] [review options]
  kritik review --diff <file|-> [--repo <dir>] [--config <.kritik.yaml>] [--title <text>] [review options]
  kritik job       (inside a review Job: reads ${ENV.review}, ${ENV.githubToken} or ${ENV.gitlabToken}, ${ENV.anthropicApiKey})
  kritik --help | --version      (every command also takes --help)

Review options:
  --format text|markdown|json  stdout carries only this format (progress and warnings go to stderr)
  --fail-on critical|major|minor
                               exit 3 when a finding at this severity or above is found (for CI)
  --max-turns <1-50>           model turns exploring the code;  --no-verify  skip the second look
  A pull request's head is checked out into a temporary directory (removed afterwards) and the model
  explores it; --repo explores a local directory with a --diff (git diff main | kritik review --diff - --repo .).
  A local diff is never posted. An empty diff is "nothing to review" (exit 0); input that is not a
  unified diff is bad input (exit 2).
${POLICY_USAGE.replace(/^Usage:\n/, '')}

Environment: ${ENV.githubToken} (required for GitHub pull requests), ${ENV.gitlabToken} (for GitLab merge
requests, on ${ENV.gitlabUrl}: gitlab.com by default), ${ENV.anthropicApiKey} (without it only the
deterministic checks run), ${ENV.githubApiUrl}, ${ENV.anthropicBaseUrl}.
Exit codes: 0 done (posted, or nothing to post), 1 the review failed, 2 bad input or configuration,
3 findings at or above --fail-on.`;

export class BadInput extends Error {}

export interface Target {
  platform: Platform;
  repo: RepoRef;
  pr: number;
  /** A host other than github.com, whose API the token may only reach through {@link hostFor}. */
  host?: string;
}

/**
 * `owner/repo#123`, a GitHub pull request URL, or a GitLab merge request URL
 * (`https://gitlab.example.com/group/sub/proj/-/merge_requests/12`, nested groups kept in `owner`).
 */
export function parseTarget(target: string): Target {
  const short = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/.exec(target.trim());
  if (short) return { platform: 'github', repo: { owner: short[1]!, name: short[2]! }, pr: Number(short[3]) };
  let url: URL;
  try {
    url = new URL(target.trim());
  } catch {
    throw new BadInput(`not a pull request: "${target}" (expected owner/repo#123 or a pull or merge request URL)`);
  }
  const host = url.host.toLowerCase();
  const gitlab = /^\/((?:[^/]+\/)+)([^/]+)\/-\/merge_requests\/(\d+)(?:\/.*)?$/.exec(url.pathname);
  if (gitlab) {
    const owner = decodeURIComponent(gitlab[1]!.replace(/\/$/, ''));
    const name = decodeURIComponent(gitlab[2]!);
    if (owner.split('/').some((p) => p === '..' || p === '.') || name === '..' || name === '.')
      throw new BadInput(`not a merge request URL: "${target}"`);
    return { platform: 'gitlab', repo: { owner, name }, pr: Number(gitlab[3]), host };
  }
  const m = /^\/([^/]+)\/([^/]+)\/pull\/(\d+)(?:\/.*)?$/.exec(url.pathname);
  if (!m) throw new BadInput(`not a pull or merge request URL: "${target}"`);
  const github = host === 'github.com' || host === 'www.github.com';
  return { platform: 'github', repo: { owner: m[1]!, name: m[2]! }, pr: Number(m[3]), ...(github ? {} : { host }) };
}

/**
 * The code host a target is reviewed on and the token for it. GitLab's token goes only to
 * GITLAB_URL (gitlab.com by default), never to a host a URL names by itself.
 */
export function hostFor(
  target: Target,
  settings: Pick<
    ClientSettings,
    'githubApiUrl' | 'githubApiUrlSet' | 'githubToken' | 'gitlabUrl' | 'gitlabUrlSet' | 'gitlabToken'
  >,
): HostSettings {
  const name = `${target.repo.owner}/${target.repo.name}${target.platform === 'gitlab' ? '!' : '#'}${target.pr}`;
  if (target.platform === 'github') {
    const url = apiUrlFor(target, settings);
    if (!settings.githubToken) throw new BadInput(`${ENV.githubToken} must be set to read ${name}`);
    return { platform: 'github', url, token: settings.githubToken };
  }
  const configured = new URL(settings.gitlabUrl).host.toLowerCase();
  if (target.host !== configured)
    throw new BadInput(
      `the merge request is on ${target.host}, but ${ENV.gitlabToken} is only sent to ${settings.gitlabUrl}: ` +
        `set ${ENV.gitlabUrl}=https://${target.host} to review it there`,
    );
  if (!settings.gitlabToken) throw new BadInput(`${ENV.gitlabToken} must be set to read ${name}`);
  return { platform: 'gitlab', url: settings.gitlabUrl, token: settings.gitlabToken };
}

/**
 * Where the token goes: only to the configured API (GITHUB_API_URL, api.github.com by default).
 * A URL names a host but never sends the token there by itself, nor over plain HTTP: a pull
 * request on another host needs GITHUB_API_URL set to that host's API.
 */
export function apiUrlFor(
  target: { host?: string },
  settings: Pick<ClientSettings, 'githubApiUrl' | 'githubApiUrlSet'>,
) {
  if (target.host === undefined) return settings.githubApiUrl;
  if (settings.githubApiUrlSet && new URL(settings.githubApiUrl).host.toLowerCase() === target.host)
    return settings.githubApiUrl;
  throw new BadInput(
    `the pull request is on ${target.host}, but ${ENV.githubToken} is only sent to ${settings.githubApiUrl}: ` +
      `set ${ENV.githubApiUrl}=https://${target.host}/api/v3 to review it there`,
  );
}

/** Runs the command line; resolves with the exit code. */
export async function main(argv: readonly string[], env: Env, io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'job') {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(`${USAGE}\n`);
      return EXIT.ok;
    }
    return runJob(env, io);
  }
  if (command === 'policy') return runPolicy(rest, env, io);
  if (command === '--version' || command === '-v') {
    io.stdout('kritik 0.1.0\n');
    return EXIT.ok;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(`${USAGE}\n`);
    return command === undefined ? EXIT.badInput : EXIT.ok;
  }
  if (command !== 'review') {
    io.stderr(`kritik: unknown command "${command}"\n\n${USAGE}\n`);
    return EXIT.badInput;
  }
  try {
    return await review(rest, env, io);
  } catch (error) {
    if (error instanceof BadInput || error instanceof SettingsError) {
      io.stderr(`kritik: ${error.message}\n`);
      return EXIT.badInput;
    }
    throw error;
  }
}

async function review(args: readonly string[], env: Env, io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseReviewArgs>;
  try {
    parsed = parseReviewArgs(args);
  } catch (error) {
    throw new BadInput(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new BadInput(`--format must be one of ${FORMATS.join(', ')}`);
  const failOn = values['fail-on'] as FailOn | undefined;
  if (failOn !== undefined && !FAIL_ON.includes(failOn))
    throw new BadInput(`--fail-on must be one of ${FAIL_ON.join(', ')}`);
  const settings = readClientSettings(env);
  const progress = (message: string) => {
    if (!settings.quiet) io.stderr(`kritik: ${redact(message, settings)}\n`);
  };
  const maxTurns = values['max-turns'] === undefined ? undefined : Number(values['max-turns']);
  if (maxTurns !== undefined && !(Number.isInteger(maxTurns) && maxTurns >= 1 && maxTurns <= 50))
    throw new BadInput('--max-turns must be an integer from 1 to 50');
  const loop = {
    ...(maxTurns !== undefined ? { maxTurns } : {}),
    ...(values['no-verify'] ? { verify: false } : {}),
  };
  const repoDir = values.repo;
  // Called once the input is known to be good, so a bad input's error is the first thing said.
  const modelOrChecks = () => {
    const chosen = model(settings, progress);
    if (!chosen.llm)
      progress(`${chosen.noLlmReason}: running the deterministic checks only (secrets, conflict markers)`);
    return chosen;
  };
  const exitOf = (run: ReviewRun, subject: Subject): number => {
    io.stdout(renderOutput(run, format, subject));
    if (run.report.status === 'failed') return EXIT.failed;
    const over = failOn === undefined ? 0 : findingsAtOrAbove(run, failOn);
    if (over === 0) return EXIT.ok;
    io.stderr(`kritik: ${over} finding(s) at ${failOn} or above (--fail-on ${failOn})\n`);
    return EXIT.findings;
  };

  if (values.diff !== undefined) {
    if (positionals.length > 0) throw new BadInput('give either --diff or a pull request, not both');
    const diff = await readDiff(values.diff, io);
    if (diff.trim() !== '' && !/^(diff --git |--- |@@ )/m.test(diff)) {
      throw new BadInput(`${values.diff === '-' ? 'standard input' : values.diff} does not contain a unified diff`);
    }
    const configText = await readConfig(values.config, io);
    const instructionFiles = repoDir === undefined ? [] : await readInstructionFiles(repoDir, io);
    const { llm, noLlmReason } = modelOrChecks();
    const run = await runReview({
      source: {
        kind: 'diff',
        diff,
        configText,
        ...(values.title ? { title: values.title } : {}),
        ...(instructionFiles.length > 0 ? { instructionFiles } : {}),
      },
      llm,
      noLlmReason,
      dryRun: true,
      progress,
      ...(repoDir !== undefined ? { repoDir } : {}),
      ...loop,
    });
    return exitOf(run, 'diff');
  }

  if (positionals.length !== 1) throw new BadInput('expected one pull request (owner/repo#123 or its URL)');
  if (values.config !== undefined)
    throw new BadInput('--config applies to --diff only; a pull request uses its base branch config');
  const target = parseTarget(positionals[0]!);
  const hostSettings = hostFor(target, settings);
  const { llm, noLlmReason } = modelOrChecks();
  const run = await runReview({
    source: { kind: 'pull', repo: target.repo, pr: target.pr, trigger: 'cli' },
    host: createCodeHost(hostSettings, { warn: progress }),
    llm,
    noLlmReason,
    dryRun: values['dry-run'] ?? false,
    progress,
    // The head tree goes to a temporary directory the review removes; --repo uses one as it is.
    ...(repoDir !== undefined ? { repoDir } : values['no-checkout'] ? {} : { checkoutParent: tmpdir() }),
    ...loop,
  });
  return exitOf(run, 'pull request');
}

function parseReviewArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      diff: { type: 'string' },
      config: { type: 'string' },
      title: { type: 'string' },
      format: { type: 'string', short: 'f' },
      'fail-on': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'dry-run': { type: 'boolean' },
      repo: { type: 'string' },
      'max-turns': { type: 'string' },
      'no-verify': { type: 'boolean' },
      'no-checkout': { type: 'boolean' },
    },
  });
}

function model(settings: ClientSettings, progress: (m: string) => void) {
  const { model } = settings;
  const needsKey = model.provider === 'anthropic' || model.fallback?.provider === 'anthropic';
  if (needsKey && !settings.anthropicApiKey) return { llm: null, noLlmReason: `${ENV.anthropicApiKey} is not set` };
  const llm = createModelPort({
    settings: model,
    ...(settings.anthropicApiKey ? { apiKey: settings.anthropicApiKey } : {}),
    ...(settings.anthropicBaseUrl ? { anthropicBaseUrl: settings.anthropicBaseUrl } : {}),
    policy: DEFAULT_RETRY,
    progress,
  });
  return { llm, noLlmReason: undefined };
}

async function readDiff(source: string, io: Io): Promise<string> {
  if (source === '-') {
    if (io.stdinIsTty)
      throw new BadInput(
        '--diff - reads the diff from standard input; pipe one in (git diff main | kritik review --diff -)',
      );
    return io.readStdin();
  }
  try {
    return await io.readFile(source);
  } catch (error) {
    throw new BadInput(`cannot read ${source}: ${(error as Error).message}`);
  }
}

/** AGENTS.md and the like of a local repository: the user's own checkout, so its own instructions. */
async function readInstructionFiles(dir: string, io: Io): Promise<InstructionFile[]> {
  const out: InstructionFile[] = [];
  for (const file of INSTRUCTION_FILES) {
    try {
      out.push({ path: file, text: await io.readFile(join(dir, file)) });
    } catch {
      // Absent is the common case.
    }
  }
  return out;
}

/** --config, or .kritik.yaml of the current directory when present. */
async function readConfig(path: string | undefined, io: Io): Promise<string | null> {
  try {
    return await io.readFile(path ?? '.kritik.yaml');
  } catch (error) {
    if (path === undefined) return null;
    throw new BadInput(`cannot read ${path}: ${(error as Error).message}`);
  }
}
