// The review engine: a pipeline of stages with typed values between them (gather → plan →
// workspace → explore/ask → verify → publish). It never throws: every run ends in a report whose
// status is posted, skipped or failed, with the reason, and the check run concluded to match.

import type { CodeHost, ReviewCommentInput } from '../code-host/code-host.js';
import type { LlmPort } from '../llm/anthropic.js';
import type { CheckoutLimits } from '../repo/checkout.js';
import { runAnswer } from './answer.js';
import { countBySeverity } from './findings.js';
import { ask } from './pipeline/ask.js';
import { CheckRunHandle } from './pipeline/check-run.js';
import { type Gathered, gatherDiff, gatherPull, type ReviewSource } from './pipeline/gather.js';
import { Ledger } from './pipeline/ledger.js';
import { plan } from './pipeline/plan.js';
import {
  arrangeOutcome,
  concludePosted,
  inlineComments,
  type Outcome,
  post,
  renderBody,
  summaryMarkers,
} from './pipeline/publish.js';
import { type Tidied, tidyThreads } from './pipeline/tidy.js';
import { type VerificationCounts, verify } from './pipeline/verify.js';
import { prepareWorkspace, type Workspace } from './pipeline/workspace.js';
import { blankReport, type ReviewReport } from './result.js';

export type { ReviewSource } from './pipeline/gather.js';

export interface RunReviewOptions {
  source: ReviewSource;
  /** The code host of a pull request source (GitHub, GitLab). */
  host?: CodeHost;
  /** null runs the deterministic checks alone. */
  llm: LlmPort | null;
  /** Why there is no model, shown to the reader (e.g. "ANTHROPIC_API_KEY is not set"). */
  noLlmReason?: string;
  dryRun?: boolean;
  progress?: (message: string) => void;
  /** Wall-clock budget of the whole review; model requests stop being sent after it. */
  deadlineMs?: number;
  now?: () => number;
  /** A directory to explore as the checkout (`--repo`), for a diff or a pull request. */
  repoDir?: string;
  /** Where a pull request's head is checked out (the Job's workspace); unset reviews the diff only. */
  checkoutParent?: string;
  checkoutLimits?: CheckoutLimits;
  /** Overrides .kritik.yaml's max_turns (`--max-turns`). */
  maxTurns?: number;
  /** false turns the verification pass off whatever .kritik.yaml says (`--no-verify`). */
  verify?: boolean;
}

/** What a review produced: the report, and the Markdown it posted (or, in a dry run, would post). */
export interface ReviewRun {
  report: ReviewReport;
  /** The review body; empty when the review stopped before building one. */
  markdown: string;
  comments: ReviewCommentInput[];
}

/** Runs one review end to end. Resolves with the report; never rejects. */
export async function runReview(options: RunReviewOptions): Promise<ReviewRun> {
  const now = options.now ?? Date.now;
  const started = now();
  const progress = options.progress ?? (() => {});
  const source = options.source;
  // An answer is a conversation, not a review: no check run, no diff, its own short pipeline.
  if (source.kind === 'pull' && source.trigger === 'answer') return runAnswer({ ...options, source });
  const dryRun = options.dryRun ?? source.kind === 'diff';
  const gh = options.host;
  const ledger = new Ledger();
  const checkRun = new CheckRunHandle(gh, source.kind === 'pull' ? source.repo : undefined, progress);
  let workspace: Workspace | undefined;
  let verification: VerificationCounts | undefined;
  let filesRead: string[] = [];

  const report = (status: ReviewReport['status'], extra: Partial<ReviewReport> = {}): ReviewReport => ({
    ...blankReport(status, ledger, now() - started),
    ...checkRun.fields(),
    ...(dryRun ? { dryRun } : {}),
    ...(ledger.model ? { model: ledger.model } : {}),
    ...(ledger.turns > 0
      ? {
          turns: ledger.turns,
          toolCalls: ledger.toolCalls,
          filesRead: filesRead.length,
          ...(filesRead.length > 0 ? { filesReadPaths: filesRead } : {}),
        }
      : {}),
    ...(verification ? { verification } : {}),
    ...extra,
  });

  try {
    let gathered: Gathered;
    if (source.kind === 'diff') {
      gathered = gatherDiff(source, progress);
    } else {
      if (!gh) throw new Error('a code host client is required to review a pull request');
      progress(`${source.repo.owner}/${source.repo.name}#${source.pr}: reading the pull request`);
      // The worker's queued check run is this review's from here on: every ending below concludes it.
      if (source.checkRunId !== undefined && !dryRun) checkRun.id = source.checkRunId;
      checkRun.headSha = source.headSha;
      const g = await gatherPull(gh, source, dryRun, checkRun, progress);
      if ('stopped' in g) {
        const { conclusion, title, reason, reviewUrl } = g.stopped;
        await checkRun.conclude(conclusion, { title, summary: reason }, reviewUrl);
        return {
          report: report('skipped', { reason, ...(reviewUrl ? { reviewUrl } : {}) }),
          markdown: '',
          comments: [],
        };
      }
      gathered = g;
    }

    const explore =
      options.repoDir !== undefined || (options.checkoutParent !== undefined && gathered.target !== undefined);
    const planned = plan(gathered, options.llm !== null, explore, options.llm?.catalogue);
    const config = planned.config;
    const notes = [...planned.notes];
    const skipped = [...planned.skipped];
    const raw = [...planned.checkFindings];
    if (raw.length > 0) progress(`checks: ${raw.length} secret or conflict finding(s)`);
    let summaries: string[] = [];
    let reviewed = 0;
    let failure: string | undefined;

    if (!options.llm) {
      notes.unshift(
        `Only the deterministic checks ran (secrets, conflict markers): ${options.noLlmReason ?? 'no model configured'}.`,
      );
      reviewed = planned.reviewable.length;
    } else if (planned.requests) {
      workspace = await prepareWorkspace({
        ...(options.repoDir !== undefined ? { repoDir: options.repoDir } : {}),
        ...(options.checkoutParent !== undefined ? { checkoutParent: options.checkoutParent } : {}),
        ...(gh ? { gh } : {}),
        ...(gathered.target ? { target: gathered.target } : {}),
        ...(options.checkoutLimits ? { limits: options.checkoutLimits } : {}),
        ignored: planned.ignored,
        progress,
      });
      notes.push(...workspace.notes);
      const deadlineAt =
        options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs - (now() - started);
      const timeUp = () => options.deadlineMs !== undefined && now() - started > options.deadlineMs;
      const asked = await ask({
        llm: options.llm,
        plan: planned,
        gathered,
        tools: workspace.tools,
        maxTurns: options.maxTurns ?? config.max_turns,
        ledger,
        timeUp,
        ...(deadlineAt !== undefined ? { deadlineAt } : {}),
        progress,
      });
      summaries = asked.summaries;
      reviewed = asked.reviewed.size;
      skipped.push(...asked.skipped);
      notes.push(...asked.notes);
      failure = asked.failure;
      let modelFindings = asked.findings;
      const verifyOn = options.verify !== false && config.verify;
      if (workspace.tools && verifyOn && modelFindings.length > 0 && !failure && !timeUp()) {
        const verified = await verify({
          llm: options.llm,
          model: config.verify_model,
          findings: modelFindings,
          files: planned.reviewable,
          tools: workspace.tools,
          maxTurns: options.maxTurns ?? config.max_turns,
          budgetUsd: config.max_cost_usd - ledger.costUsd,
          maxInputTokens: config.max_input_tokens,
          ledger,
          ...(deadlineAt !== undefined ? { deadlineAt } : {}),
          progress,
        });
        modelFindings = verified.findings;
        verification = verified.counts;
        notes.push(...verified.notes);
      }
      raw.push(...modelFindings);
      const diffPaths = new Set(gathered.collected.files.map((f) => f.path));
      filesRead = [...(workspace.tools?.filesRead ?? [])].filter((p) => !diffPaths.has(p)).sort();
    }

    const outcome: Outcome = arrangeOutcome({
      raw,
      collected: gathered.collected,
      loaded: gathered.loaded,
      seen: gathered.seen,
      summaries,
      skipped,
      reviewed,
      notes,
      model: ledger.model ?? null,
      ...(workspace?.tools || gathered.instructionFiles.length > 0
        ? {
            exploration: {
              filesReadBeyondDiff: filesRead.length,
              turns: workspace?.tools ? ledger.turns : 0,
              instructionFiles: gathered.instructionFiles.map((f) => f.path),
            },
          }
        : {}),
      ...(failure ? { failure } : {}),
      learnedRules: gathered.learnedRules,
    });
    const target = gathered.target;
    let tidied: Tidied | undefined;
    // A host without conversations has nothing to tidy.
    if (target && gh?.conversations && !dryRun && !outcome.failure) {
      tidied = await tidyThreads(gh.conversations, target, progress);
      outcome.notes.push(...tidied.notes);
    }
    if (target?.summary && !dryRun && !outcome.failure)
      outcome.notes.push(`Summary updated in place for \`${target.headSha.slice(0, 7)}\`.`);
    const markers = target ? summaryMarkers(target) : [];
    let markdown = renderBody(outcome, ledger.usage, ledger.costUsd, markers);
    let comments = inlineComments(outcome.findings);
    const filled = (status: ReviewReport['status'], extra: Partial<ReviewReport> = {}) =>
      report(status, {
        findings: countBySeverity(outcome.findings),
        filesReviewed: outcome.filesReviewed,
        filesSkipped: outcome.skipped.length,
        findingList: outcome.findings.map((f) => ({
          path: f.path,
          line: f.line,
          severity: f.severity,
          title: f.title,
          inline: f.inline,
        })),
        skippedFiles: outcome.skipped,
        ...extra,
      });

    if (outcome.failure) {
      await checkRun.conclude('failure', { title: 'Kritik review failed', summary: outcome.failure });
      return { report: filled('failed', { reason: outcome.failure, commentsPosted: 0 }), markdown, comments };
    }
    if (!target || !gh || dryRun)
      return { report: filled('skipped', { reason: 'dry run: nothing posted' }), markdown, comments };

    const posted = await post(
      gh,
      target,
      outcome,
      () => renderBody(outcome, ledger.usage, ledger.costUsd, markers),
      progress,
    );
    markdown = posted.body;
    comments = posted.comments;
    // Read after posting: the findings of refused inline positions are no longer inline.
    const final = filled('posted', {
      reviewUrl: posted.htmlUrl,
      commentsPosted: posted.commentsPosted,
      ...(tidied ? { threadsResolved: tidied.resolved } : {}),
      ...(tidied && tidied.dismissed.length > 0 ? { dismissed: tidied.dismissed } : {}),
    });
    await concludePosted(checkRun, outcome, posted);
    return { report: { ...final, ...checkRun.fields(), durationMs: Math.round(now() - started) }, markdown, comments };
  } catch (error) {
    const reason = (error as Error)?.message ?? String(error);
    progress(`review failed: ${reason}`);
    await checkRun.conclude('failure', { title: 'Kritik review failed', summary: reason });
    return { report: report('failed', { reason }), markdown: '', comments: [] };
  } finally {
    await workspace?.dispose().catch(() => {});
  }
}
