// The `kritik` command line: `review` of a pull request or a local diff, and `job`, the mode a
// review Job runs in. Exit codes: 0 posted or skipped, 1 failed, 2 bad input or configuration.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ENV, type RepoRef } from '@kritik/core';
import { createOctokit, OctokitGitHub } from '../github/github.js';
import { AnthropicLlm, createAnthropic, DEFAULT_RETRY } from '../llm/anthropic.js';
import { INSTRUCTION_FILES, type InstructionFile } from '../prompt/prompt.js';
import { runReview } from '../review/engine.js';
import { type ClientSettings, type Env, readClientSettings, SettingsError } from '../settings.js';
import { FORMATS, type Format, renderOutput } from './format.js';
import { EXIT, type Io, redact } from './io.js';
import { runJob } from './job.js';
import { POLICY_USAGE, runPolicy } from './policy.js';

export const USAGE = `Usage:
  kritik review <owner/repo#123 | pull request URL> [--dry-run] [--no-checkout] [review options]
  kritik review --diff <file|-> [--repo <dir>] [--config <.kritik.yaml>] [--title <text>] [review options]
Review options: [--max-turns <1-50>] [--no-verify] [--format text|markdown|json]
  A pull request's head is checked out into a temporary directory (removed afterwards) and the model
  explores it; --repo explores a local directory with a --diff (git diff main | kritik review --diff - --repo .).
  kritik job       (inside a review Job: reads ${ENV.review}, ${ENV.githubToken}, ${ENV.anthropicApiKey})
${POLICY_USAGE.replace(/^Usage:\n/, '')}

Environment: ${ENV.githubToken} (required for pull requests), ${ENV.anthropicApiKey} (without it only the
deterministic checks run), ${ENV.githubApiUrl}, ${ENV.anthropicBaseUrl}.
Exit codes: 0 posted or skipped, 1 failed, 2 bad input or configuration.`;

export class BadInput extends Error {}

/**
 * `owner/repo#123`, or a pull request URL: `host` is set for a host other than github.com (a
 * GitHub Enterprise server), whose API the token may only reach through {@link apiUrlFor}.
 */
export function parseTarget(target: string): { repo: RepoRef; pr: number; host?: string } {
  const short = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/.exec(target.trim());
  if (short) return { repo: { owner: short[1]!, name: short[2]! }, pr: Number(short[3]) };
  let url: URL;
  try {
    url = new URL(target.trim());
  } catch {
    throw new BadInput(`not a pull request: "${target}" (expected owner/repo#123 or a pull request URL)`);
  }
  const m = /^\/([^/]+)\/([^/]+)\/pull\/(\d+)(?:\/.*)?$/.exec(url.pathname);
  if (!m) throw new BadInput(`not a pull request URL: "${target}"`);
  const host = url.host.toLowerCase();
  const github = host === 'github.com' || host === 'www.github.com';
  return { repo: { owner: m[1]!, name: m[2]! }, pr: Number(m[3]), ...(github ? {} : { host }) };
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
  if (command === 'job') return runJob(env, io);
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
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new BadInput(`--format must be one of ${FORMATS.join(', ')}`);
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
  const { llm, noLlmReason } = model(settings, progress);
  if (!llm) progress(`${noLlmReason}: running the deterministic checks only (secrets, conflict markers)`);

  if (values.diff !== undefined) {
    if (positionals.length > 0) throw new BadInput('give either --diff or a pull request, not both');
    const diff = await readDiff(values.diff, io);
    if (diff.trim() !== '' && !/^(diff --git |--- |@@ )/m.test(diff)) {
      throw new BadInput(`${values.diff === '-' ? 'standard input' : values.diff} does not contain a unified diff`);
    }
    const configText = await readConfig(values.config, io);
    const instructionFiles = repoDir === undefined ? [] : await readInstructionFiles(repoDir, io);
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
    io.stdout(renderOutput(run, format));
    return run.report.status === 'failed' ? EXIT.failed : EXIT.ok;
  }

  if (positionals.length !== 1) throw new BadInput('expected one pull request (owner/repo#123 or its URL)');
  if (values.config !== undefined)
    throw new BadInput('--config applies to --diff only; a pull request uses its base branch config');
  const target = parseTarget(positionals[0]!);
  const apiUrl = apiUrlFor(target, settings);
  if (!settings.githubToken)
    throw new BadInput(`${ENV.githubToken} must be set to read ${target.repo.owner}/${target.repo.name}#${target.pr}`);
  const octokit = createOctokit({
    token: settings.githubToken,
    baseUrl: apiUrl,
    warn: progress,
  });
  const run = await runReview({
    source: { kind: 'github', repo: target.repo, pr: target.pr, trigger: 'cli' },
    github: new OctokitGitHub(octokit),
    llm,
    noLlmReason,
    dryRun: values['dry-run'] ?? false,
    progress,
    // The head tree goes to a temporary directory the review removes; --repo uses one as it is.
    ...(repoDir !== undefined ? { repoDir } : values['no-checkout'] ? {} : { checkoutParent: tmpdir() }),
    ...loop,
  });
  io.stdout(renderOutput(run, format));
  return run.report.status === 'failed' ? EXIT.failed : EXIT.ok;
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
      'dry-run': { type: 'boolean' },
      repo: { type: 'string' },
      'max-turns': { type: 'string' },
      'no-verify': { type: 'boolean' },
      'no-checkout': { type: 'boolean' },
    },
  });
}

function model(settings: ClientSettings, progress: (m: string) => void) {
  if (!settings.anthropicApiKey) return { llm: null, noLlmReason: `${ENV.anthropicApiKey} is not set` };
  const client = createAnthropic({ apiKey: settings.anthropicApiKey, baseURL: settings.anthropicBaseUrl });
  return { llm: new AnthropicLlm(client, DEFAULT_RETRY, progress), noLlmReason: undefined };
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
