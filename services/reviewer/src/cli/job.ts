// Job mode: the reviewer inside a review Job. Reads the payload and credentials the worker put in
// the environment, reviews, and reports the compact result in the termination message and as the
// last stdout line (the worker's fallback when the message file cannot be written).
import { emptyUsage, type ReviewResult } from '@kritik/core';
import { createCodeHost } from '../code-host/create.js';
import { DEFAULT_RETRY } from '../llm/anthropic.js';
import { createModelPort, FallbackLlm } from '../llm/providers.js';
import { runReview } from '../review/engine.js';
import { compactResult, coreResult } from '../review/result.js';
import { type Env, type JobSettings, readJobSettings, SettingsError, terminationLogPath } from '../settings.js';
import { EXIT, type Io, redact } from './io.js';

export async function runJob(env: Env, io: Io): Promise<number> {
  const started = Date.now();
  let settings: JobSettings;
  try {
    settings = readJobSettings(env);
  } catch (error) {
    const reason = error instanceof SettingsError ? error.message : (error as Error).message;
    io.stderr(`kritik: ${reason}\n`);
    await report(io, terminationLogPath(env), {
      status: 'failed',
      reason,
      findings: { critical: 0, major: 0, minor: 0, nit: 0 },
      commentsPosted: 0,
      filesReviewed: 0,
      filesSkipped: 0,
      tokens: emptyUsage(),
      costUsd: 0,
      durationMs: Date.now() - started,
    });
    return EXIT.badInput;
  }
  const secrets = { hostToken: settings.host.token, anthropicApiKey: settings.anthropicApiKey };
  const progress = (message: string) => {
    if (!settings.quiet) io.stderr(`kritik: ${redact(message, secrets)}\n`);
  };
  const { payload } = settings;
  const llm = createModelPort({
    settings: settings.model,
    ...(settings.anthropicApiKey ? { apiKey: settings.anthropicApiKey } : {}),
    ...(settings.anthropicBaseUrl ? { anthropicBaseUrl: settings.anthropicBaseUrl } : {}),
    policy: DEFAULT_RETRY,
    progress,
  });
  progress(
    `review ${payload.reviewId}: ${payload.repo.owner}/${payload.repo.name}#${payload.pr} at ${payload.headSha.slice(0, 7)}`,
  );
  const run = await runReview({
    source: {
      kind: 'pull',
      repo: payload.repo,
      pr: payload.pr,
      headSha: payload.headSha,
      ...(payload.baseSha ? { baseSha: payload.baseSha } : {}),
      reviewId: payload.reviewId,
      trigger: payload.trigger,
      ...(payload.botLogin ? { selfLogin: payload.botLogin } : {}),
      ...(payload.ceilings ? { ceilings: payload.ceilings } : {}),
      ...(payload.policy ? { policy: payload.policy } : {}),
      ...(payload.reviewDrafts !== undefined ? { reviewDrafts: payload.reviewDrafts } : {}),
      ...(payload.checkRunId !== undefined ? { checkRunId: payload.checkRunId } : {}),
      ...(payload.thread ? { thread: payload.thread } : {}),
      ...(payload.learned ? { learned: payload.learned } : {}),
    },
    host: createCodeHost(settings.host, { warn: progress }),
    llm,
    dryRun: false,
    progress,
    deadlineMs: settings.deadlineSeconds * 1000,
    ...(settings.workspace ? { checkoutParent: settings.workspace } : {}),
    checkoutLimits: settings.checkoutLimits,
  });
  const result = coreResult(run.report);
  const fallback = llm instanceof FallbackLlm ? llm.fallback : undefined;
  if (fallback) result.fallback = fallback;
  if (result.reason) result.reason = redact(result.reason, secrets);
  await report(io, settings.terminationLog, result);
  return result.status === 'failed' ? EXIT.failed : EXIT.ok;
}

async function report(io: Io, path: string, result: ReviewResult): Promise<void> {
  const compact = compactResult(result);
  try {
    await io.writeFile(path, compact);
  } catch (error) {
    io.stderr(`kritik: cannot write the termination message to ${path}: ${(error as Error).message}\n`);
  }
  io.stdout(`${compact}\n`);
}
