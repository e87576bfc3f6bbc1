// The review engine: gathers the pull request (or a local diff), runs the checks and the model
// within budget, and posts one COMMENT review plus a check run. It never throws: every run ends
// in a report whose status is posted, skipped or failed, with the reason.
import {
  type CheckRunConclusion,
  type CheckRunOutput,
  checkRunText,
  compileGlobs,
  compileIgnore,
  costOf,
  emptyUsage,
  priceOf,
  type RepoRef,
  type ReviewCeilings,
  repoFullName,
  reviewsDrafts,
  type TokenUsage,
  type Trigger,
} from '@kritik/core';
import { CostGate, packRequests, type ReviewUnit } from '../budget/budget.js';
import { redactSecrets, runChecks } from '../checks/checks.js';
import {
  applyCeilings,
  CONFIG_FILE,
  DEFAULT_IGNORE,
  type KritikConfig,
  type LoadedConfig,
  loadConfig,
} from '../config/config.js';
import { type DiffFile, fileFromPatch, parseUnifiedDiff } from '../diff/diff.js';
import { DiffIndex } from '../diff/line-map.js';
import { GitHubError, type GitHubPort, type PullRequestInfo, type ReviewCommentInput } from '../github/github.js';
import { LlmError, type LlmPort } from '../llm/anthropic.js';
import { buildRequest, overheadTokens, type PullRequestText } from '../prompt/prompt.js';
import { type ArrangedFinding, arrangeFindings, commentBody, countBySeverity, type RawFinding } from './findings.js';
import { extractFingerprints, isKritikBody, parseReviewMarker, reviewMarker } from './fingerprint.js';
import type { ReviewReport } from './result.js';
import { inlineCode } from './sanitize.js';
import { buildSummary, formatCounts, type SkippedFile } from './summary.js';

export type ReviewSource =
  | {
      kind: 'github';
      repo: RepoRef;
      pr: number;
      /** The SHA the review was requested for; a PR that moved on is skipped as superseded. */
      headSha?: string;
      baseSha?: string;
      reviewId?: string;
      trigger?: Trigger;
      /**
       * The login Kritik posts as (the App's `<slug>[bot]`); only its reviews and comments are
       * read for markers. Asked of GitHub when absent (a user's token); unknown trusts none.
       */
      selfLogin?: string;
      /** The platform's limits on what the repository's config may set. */
      ceilings?: ReviewCeilings;
      /** The platform's answer to drafts when the repository's config has none. */
      reviewDrafts?: boolean;
      /** The check run the worker created queued; this review moves it on instead of creating one. */
      checkRunId?: number;
    }
  | {
      kind: 'diff';
      diff: string;
      /** Text of .kritik.yaml to apply, null for defaults. */
      configText: string | null;
      title?: string;
    };

export interface RunReviewOptions {
  source: ReviewSource;
  github?: GitHubPort;
  /** null runs the deterministic checks alone. */
  llm: LlmPort | null;
  /** Why there is no model, shown to the reader (e.g. "ANTHROPIC_API_KEY is not set"). */
  noLlmReason?: string;
  dryRun?: boolean;
  progress?: (message: string) => void;
  /** Wall-clock budget of the whole review; model requests stop being sent after it. */
  deadlineMs?: number;
  now?: () => number;
}

interface Collected {
  files: DiffFile[];
  index: DiffIndex;
  /** Files from the GitHub files API without a patch (too large to show). */
  missingPatch: Set<string>;
  notes: string[];
}

const short = (sha: string) => sha.slice(0, 7);

/** What a review produced: the report, and the Markdown it posted (or, in a dry run, would post). */
export interface ReviewRun {
  report: ReviewReport;
  /** The review body; empty when the review stopped before building one. */
  markdown: string;
  comments: ReviewCommentInput[];
}

interface Rendered {
  markdown: string;
  comments: ReviewCommentInput[];
}

/** Runs one review end to end. Resolves with the report; never rejects. */
export async function runReview(options: RunReviewOptions): Promise<ReviewRun> {
  const rendered: Rendered = { markdown: '', comments: [] };
  const report = await review(options, rendered);
  return { report, ...rendered };
}

async function review(options: RunReviewOptions, rendered: Rendered): Promise<ReviewReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const progress = options.progress ?? (() => {});
  const dryRun = options.dryRun ?? options.source.kind === 'diff';
  const state = {
    usage: emptyUsage(),
    costUsd: 0,
    checkRunId: undefined as number | undefined,
    checkConcluded: false,
    model: undefined as string | undefined,
  };
  const base = (): Omit<ReviewReport, 'status'> => ({
    findings: { critical: 0, major: 0, minor: 0, nit: 0 },
    commentsPosted: 0,
    filesReviewed: 0,
    filesSkipped: 0,
    tokens: state.usage,
    costUsd: round(state.costUsd),
    durationMs: Math.max(0, Math.round(now() - started)),
    ...(state.checkRunId !== undefined ? { checkRunId: state.checkRunId, checkConcluded: state.checkConcluded } : {}),
    findingList: [],
    skippedFiles: [],
    ...(dryRun ? { dryRun } : {}),
    ...(state.model ? { model: state.model } : {}),
  });

  const source = options.source;
  const gh = options.github;
  try {
    if (source.kind === 'diff') {
      const files = parseUnifiedDiff(source.diff);
      const loaded = loadConfig(source.configText);
      const collected: Collected = { files, index: new DiffIndex(files), missingPatch: new Set(), notes: [] };
      progress(`diff: ${files.length} file(s)`);
      const pr = { title: source.title ?? '(local diff)', body: '' };
      const analysis = await analyse(options, loaded, collected, pr, new Set(), state, started, now);
      return finish(
        analysis,
        { ...base(), status: 'skipped', reason: 'dry run: nothing posted' },
        state,
        now,
        started,
        rendered,
      );
    }

    if (!gh) throw new Error('a GitHub client is required to review a pull request');
    const { repo, pr: number } = source;
    const name = `${repoFullName(repo)}#${number}`;
    progress(`${name}: reading the pull request`);
    // The worker's queued check run is this review's from here on: every ending below concludes it.
    if (source.checkRunId !== undefined && !dryRun) state.checkRunId = source.checkRunId;
    /** Ends the review before any analysis, with its check run concluded when there is one. */
    const stop = async (conclusion: CheckRunConclusion, title: string, reason: string, extra = {}) => {
      await conclude(gh, repo, state, conclusion, { title, summary: reason }, progress);
      return { ...base(), ...extra, status: 'skipped' as const, reason };
    };
    const pull = await gh.getPull(repo, number);
    if (pull.state !== 'open') return stop('skipped', 'Skipped: not open', `pull request is ${pull.state}`);
    // Not the worker's supersede rule (ReviewLifecycle, ADR 0015): that one compares enqueued
    // reviews in Redis; this one GitHub's live head, which moves before its webhook arrives.
    if (source.headSha && pull.headSha !== source.headSha) {
      const reason = `superseded: the pull request head moved from ${short(source.headSha)} to ${short(pull.headSha)}`;
      return stop('cancelled', 'Skipped: superseded', reason);
    }
    const headSha = source.headSha ?? pull.headSha;
    const baseSha = source.baseSha ?? pull.baseSha;
    if (state.checkRunId !== undefined) {
      try {
        await gh.startCheckRun(repo, state.checkRunId, checkRunText.inProgress(headSha));
      } catch (error) {
        // The run stays queued until the review concludes it; the review itself goes on.
        progress(`check run not started: ${(error as Error).message}`);
      }
    }

    const [reviews, comments, self] = await Promise.all([
      gh.listReviews(repo, number),
      gh.listReviewComments(repo, number),
      source.selfLogin ?? gh.currentLogin(),
    ]);
    // Markers are trusted only from Kritik's own login: anyone can write one in a review body.
    const own = (author: string) => self !== null && author.toLowerCase() === self.toLowerCase();
    const ours = reviews.filter((r) => own(r.author) && isKritikBody(r.body));
    const previous = ours.map((r) => ({ review: r, marker: parseReviewMarker(r.body) })).filter((x) => x.marker);
    const sameHead = previous.findLast((x) => x.marker!.head === headSha);
    // Only a maintainer's `full review` (the backend checks who asked) pays for a head again.
    const full = source.trigger === 'full_review';
    if (sameHead && !dryRun && !full) {
      return stop('skipped', 'Skipped: already reviewed', `already reviewed at ${short(headSha)}`, {
        reviewUrl: sameHead.review.htmlUrl,
      });
    }
    const seen = new Set([
      ...ours.flatMap((r) => extractFingerprints(r.body)),
      ...comments.filter((c) => own(c.author) && isKritikBody(c.body)).flatMap((c) => extractFingerprints(c.body)),
    ]);
    // A full review ignores the incremental state: the whole pull request, findings not repeated.
    const lastReviewed = full ? undefined : previous.findLast((x) => x.marker!.head !== headSha)?.marker?.head;

    // Configuration only ever comes from the base commit: a PR cannot rewrite its own review rules.
    const loaded = applyCeilings(loadConfig(await gh.getFileText(repo, CONFIG_FILE, baseSha)), source.ceilings);
    if (loaded.issues.length > 0)
      progress(`${CONFIG_FILE}: ${loaded.issues.length} problem(s); defaults used for them`);

    if (!dryRun && state.checkRunId === undefined) {
      try {
        state.checkRunId = await gh.createCheckRun(repo, headSha, checkRunText.inProgress(headSha));
      } catch (error) {
        // A personal token cannot write check runs (only GitHub Apps can); the review still runs.
        progress(`check run not created: ${(error as Error).message}`);
      }
    }

    if (pull.draft && !reviewsDrafts(loaded.config.review_drafts, source.reviewDrafts)) {
      const reason = 'draft pull request (set review_drafts: true in .kritik.yaml to review drafts)';
      await conclude(gh, repo, state, 'skipped', { title: 'Skipped: draft', summary: reason }, progress);
      return { ...base(), status: 'skipped', reason };
    }

    const collected = await collect(gh, repo, pull, progress);
    if (lastReviewed) await narrowToNewChanges(gh, repo, lastReviewed, headSha, collected, progress);

    const prText = { title: pull.title, body: pull.body };
    const analysis = await analyse(options, loaded, collected, prText, seen, state, started, now);
    const marker = reviewMarker({ head: headSha, base: baseSha, ...(source.reviewId ? { id: source.reviewId } : {}) });
    const report = finish(analysis, { ...base(), status: 'posted' }, state, now, started, rendered, [marker]);
    if (analysis.failure) {
      await conclude(
        gh,
        repo,
        state,
        'failure',
        { title: 'Kritik review failed', summary: analysis.failure },
        progress,
      );
      return { ...report, ...afterCheck(state), status: 'failed', reason: analysis.failure, commentsPosted: 0 };
    }
    if (dryRun) return { ...report, status: 'skipped', reason: 'dry run: nothing posted' };

    const posted = await post(gh, repo, number, headSha, analysis, report, [marker], rendered, progress);
    const counts = countBySeverity(analysis.findings);
    const conclusion: CheckRunConclusion = analysis.findings.length > 0 ? 'neutral' : 'success';
    await conclude(
      gh,
      repo,
      state,
      conclusion,
      {
        title:
          analysis.findings.length > 0
            ? `${analysis.findings.length} finding(s): ${formatCounts(counts)}`
            : 'No findings',
        summary:
          `${posted.commentsPosted} inline comment(s) posted in [the review](${posted.htmlUrl}). ` +
          `${report.filesReviewed} file(s) reviewed, ${report.filesSkipped} not reviewed.`,
        text: analysis.body.replace(/<!--[\s\S]*?-->/g, ''),
      },
      progress,
    );
    return {
      ...report,
      ...afterCheck(state),
      durationMs: Math.round(now() - started),
      reviewUrl: posted.htmlUrl,
      commentsPosted: posted.commentsPosted,
      findingList: posted.findingList,
    };
  } catch (error) {
    const reason = (error as Error)?.message ?? String(error);
    progress(`review failed: ${reason}`);
    if (gh && source.kind === 'github') {
      await conclude(gh, source.repo, state, 'failure', { title: 'Kritik review failed', summary: reason }, progress);
    }
    return { ...base(), status: 'failed', reason };
  }
}

type EngineState = {
  usage: TokenUsage;
  costUsd: number;
  checkRunId: number | undefined;
  checkConcluded: boolean;
  model: string | undefined;
};

const afterCheck = (state: EngineState) =>
  state.checkRunId !== undefined ? { checkRunId: state.checkRunId, checkConcluded: state.checkConcluded } : {};

async function conclude(
  gh: GitHubPort,
  repo: RepoRef,
  state: EngineState,
  conclusion: CheckRunConclusion,
  output: CheckRunOutput,
  progress: (m: string) => void,
): Promise<void> {
  if (state.checkRunId === undefined || state.checkConcluded) return;
  try {
    await gh.completeCheckRun(repo, state.checkRunId, conclusion, output);
    state.checkConcluded = true;
  } catch (error) {
    progress(`check run not concluded: ${(error as Error).message}`);
  }
}

/** The PR's files: the whole diff in one request, or the paginated files API when GitHub answers 406. */
async function collect(
  gh: GitHubPort,
  repo: RepoRef,
  pull: PullRequestInfo,
  progress: (m: string) => void,
): Promise<Collected> {
  const notes: string[] = [];
  const missingPatch = new Set<string>();
  let files: DiffFile[];
  const diff = await gh.getPullDiff(repo, pull.number);
  if (diff !== null) {
    files = parseUnifiedDiff(diff);
  } else {
    progress('diff too large for one response; reading files page by page');
    const metas = await gh.listPullFiles(repo, pull.number);
    files = metas.map((m) => {
      const f = fileFromPatch(m);
      if (f.patchMissing) missingPatch.add(f.path);
      return f;
    });
    if (pull.changedFiles > files.length) {
      notes.push(
        `GitHub lists only ${files.length} of the ${pull.changedFiles} changed files; the rest were not reviewed.`,
      );
    }
  }
  progress(`${files.length} changed file(s)`);
  return { files, index: new DiffIndex(files), missingPatch, notes };
}

/**
 * After a new push, only what changed since the last reviewed SHA goes to the model; findings are
 * still placed against the whole PR diff, which is what GitHub accepts comments on.
 */
async function narrowToNewChanges(
  gh: GitHubPort,
  repo: RepoRef,
  lastReviewed: string,
  headSha: string,
  collected: Collected,
  progress: (m: string) => void,
): Promise<void> {
  const comparison = await gh.compare(repo, lastReviewed, headSha);
  if (!comparison || (comparison.status !== 'ahead' && comparison.status !== 'identical')) {
    collected.notes.push(`The branch was rewritten since the last review (${short(lastReviewed)}); reviewed in full.`);
    return;
  }
  const changed = new Map<string, DiffFile>();
  for (const meta of comparison.files) {
    const f = fileFromPatch(meta);
    if (collected.index.file(f.path)) changed.set(f.path, f);
  }
  const before = collected.files.length;
  collected.files = collected.files
    .filter((f) => changed.has(f.path))
    .map((f) => {
      const inc = changed.get(f.path)!;
      // Binary and unpatched files keep the PR's own entry so they are reported as before.
      return inc.hunks.length > 0 ? { ...f, hunks: inc.hunks, additions: inc.additions, deletions: inc.deletions } : f;
    });
  collected.notes.push(
    `Incremental review: changes since ${short(lastReviewed)} (${collected.files.length} of ${before} files); earlier findings are not repeated.`,
  );
  progress(`incremental: ${collected.files.length} file(s) changed since ${short(lastReviewed)}`);
}

interface Analysis {
  findings: ArrangedFinding[];
  summaries: string[];
  skipped: SkippedFile[];
  filesReviewed: number;
  notes: string[];
  configIssues: LoadedConfig['issues'];
  config: KritikConfig;
  model: string | null;
  /** Set when the model was needed and no request succeeded. */
  failure?: string;
  body: string;
}

async function analyse(
  options: RunReviewOptions,
  loaded: LoadedConfig,
  collected: Collected,
  pr: PullRequestText,
  seen: ReadonlySet<string>,
  state: EngineState,
  started: number,
  now: () => number,
): Promise<Analysis> {
  const progress = options.progress ?? (() => {});
  const config = loaded.config;
  const notes = [...collected.notes];
  const userIgnore = compileGlobs(config.ignore.filter((g) => !g.startsWith('!')));
  const ignored = compileIgnore([...DEFAULT_IGNORE, ...config.ignore]);
  const skipped: SkippedFile[] = [];
  const reviewable: DiffFile[] = [];
  // Everything after this point sees the redacted files and text: no secret reaches the model.
  const checks = runChecks(collected.files, ignored);
  const prText = { title: redactSecrets(pr.title).text, body: redactSecrets(pr.body).text };
  for (const f of checks.files) {
    if (collected.missingPatch.has(f.path))
      skipped.push({ path: f.path, reason: 'too large: GitHub shows no diff for it' });
    else if (f.binary) skipped.push({ path: f.path, reason: 'binary file' });
    else if (f.newPath === null) skipped.push({ path: f.path, reason: 'deleted' });
    else if (ignored(f.path))
      skipped.push({
        path: f.path,
        reason: userIgnore(f.path) ? 'ignored by .kritik.yaml' : 'ignored (lock, vendored, generated or binary)',
      });
    else if (f.hunks.length === 0) skipped.push({ path: f.path, reason: 'no content change (rename or mode only)' });
    else reviewable.push(f);
  }

  if (checks.findings.length > 0) progress(`checks: ${checks.findings.length} secret or conflict finding(s)`);
  const raw: RawFinding[] = checks.findings.map(({ rule: _rule, ...f }) => ({ ...f, source: 'check' as const }));
  const summaries: string[] = [];
  const reviewed = new Set<string>();
  let failure: string | undefined;
  let model: string | null = null;

  if (!options.llm) {
    notes.unshift(
      `Only the deterministic checks ran (secrets, conflict markers): ${options.noLlmReason ?? 'no model configured'}.`,
    );
    for (const f of reviewable) reviewed.add(f.path);
  } else if (reviewable.length > 0) {
    model = config.model;
    state.model = model;
    const { price, known } = priceOf(config.model);
    if (!known)
      notes.push(
        `No price is known for model ${inlineCode(config.model)}; the budget assumed the most expensive rate.`,
      );
    const overhead = overheadTokens(config, prText);
    const plan = packRequests({
      files: reviewable,
      overheadTokens: overhead.cached + overhead.other,
      maxInputTokens: config.max_input_tokens,
    });
    for (const f of plan.tooLarge) {
      skipped.push({
        path: f.path,
        reason: `too large: one hunk exceeds max_input_tokens (${config.max_input_tokens})`,
      });
    }
    const gate = new CostGate(config.max_cost_usd, price);
    const failures: string[] = [];
    let succeeded = 0;
    const skipRest = (batches: ReviewUnit[][], reason: string) => {
      for (const unit of batches.flat()) {
        const part = unit.part ? ` (part ${unit.part.index} of ${unit.part.of})` : '';
        skipped.push({ path: unit.file.path, reason: `${reason}${part}` });
      }
    };
    for (let i = 0; i < plan.batches.length; i++) {
      const batch = plan.batches[i]!;
      if (options.deadlineMs !== undefined && now() - started > options.deadlineMs) {
        skipRest(plan.batches.slice(i), 'review time limit reached');
        break;
      }
      const diffTokens = batch.reduce((n, u) => n + u.tokens, 0);
      const allowance = gate.outputAllowance(overhead.cached, overhead.other + diffTokens);
      if (allowance === 0) {
        skipRest(plan.batches.slice(i), `over budget (max_cost_usd $${config.max_cost_usd})`);
        progress(
          `budget: $${gate.spent.toFixed(4)} of $${config.max_cost_usd} spent; ${plan.batches.length - i} request(s) not sent`,
        );
        break;
      }
      const request = buildRequest({
        model: config.model,
        maxTokens: allowance,
        config,
        pr: prText,
        units: batch,
        otherFiles: plan.batches.length > 1 ? reviewable.length - new Set(batch.map((u) => u.file.path)).size : 0,
      });
      progress(
        `model request ${i + 1}/${plan.batches.length}: ${batch.length} file part(s), ~${diffTokens + overhead.cached + overhead.other} tokens`,
      );
      try {
        const deadlineAt =
          options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs - (now() - started);
        const reply = await options.llm.review(request, deadlineAt === undefined ? {} : { deadlineAt });
        addUsage(state.usage, reply.usage);
        const cost = costOf(reply.usage, price);
        state.costUsd += cost;
        gate.record(cost);
        succeeded++;
        if (reply.summary.trim()) summaries.push(reply.summary);
        for (const f of reply.findings) raw.push({ ...f, source: 'model' });
        for (const u of batch) reviewed.add(u.file.path);
        if (reply.dropped > 0) notes.push(`${reply.dropped} malformed finding(s) from the model were dropped.`);
        progress(
          `model reply ${i + 1}: ${reply.findings.length} finding(s), ${reply.usage.input + reply.usage.cacheRead + reply.usage.cacheWrite} in / ${reply.usage.output} out tokens, $${state.costUsd.toFixed(4)} so far`,
        );
      } catch (error) {
        if (error instanceof LlmError && error.usage) {
          addUsage(state.usage, error.usage);
          const cost = costOf(error.usage, price);
          state.costUsd += cost;
          gate.record(cost);
        }
        const message = (error as Error).message;
        failures.push(message);
        progress(`model request ${i + 1} failed: ${message}`);
        skipRest(plan.batches.slice(i), `model request failed: ${message}`);
        break;
      }
    }
    if (failures.length > 0) {
      if (succeeded === 0) failure = failures[0];
      else notes.push(`A model request failed (${failures[0]}); the files it covered are listed as not reviewed.`);
    }
  }

  // A file split into parts and only partly reviewed appears in both lists, which is accurate.
  const arranged = arrangeFindings({
    findings: raw,
    index: collected.index,
    minSeverity: config.min_severity,
    maxComments: config.max_comments,
    seen,
  });
  if (arranged.duplicates > 0)
    notes.push(`${arranged.duplicates} finding(s) already raised earlier were not repeated.`);
  if (arranged.belowSeverity > 0) {
    notes.push(`${arranged.belowSeverity} finding(s) below min_severity (${config.min_severity}) were left out.`);
  }
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    findings: arranged.findings,
    summaries,
    skipped,
    filesReviewed: reviewed.size,
    notes,
    configIssues: loaded.issues,
    config,
    model,
    ...(failure ? { failure } : {}),
    body: '',
  };
}

function addUsage(total: TokenUsage, add: TokenUsage): void {
  total.input += add.input;
  total.output += add.output;
  total.cacheRead += add.cacheRead;
  total.cacheWrite += add.cacheWrite;
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** Fills the report from the analysis and renders the summary body into it. */
function finish(
  analysis: Analysis,
  report: ReviewReport,
  state: EngineState,
  now: () => number,
  started: number,
  rendered: Rendered,
  markers: string[] = [],
): ReviewReport {
  analysis.body = summaryOf(analysis, state.usage, state.costUsd, markers);
  rendered.markdown = analysis.body;
  rendered.comments = inlineComments(analysis.findings);
  return {
    ...report,
    findings: countBySeverity(analysis.findings),
    commentsPosted: 0,
    filesReviewed: analysis.filesReviewed,
    filesSkipped: analysis.skipped.length,
    tokens: { ...state.usage },
    costUsd: round(state.costUsd),
    durationMs: Math.round(now() - started),
    findingList: analysis.findings.map((f) => ({
      path: f.path,
      line: f.line,
      severity: f.severity,
      title: f.title,
      inline: f.inline,
    })),
    skippedFiles: analysis.skipped,
    ...(state.model ? { model: state.model } : {}),
  };
}

function summaryOf(analysis: Analysis, usage: TokenUsage, costUsd: number, markers: string[]): string {
  return buildSummary({
    summaries: analysis.summaries,
    findings: analysis.findings,
    skipped: analysis.skipped,
    configIssues: analysis.configIssues,
    notes: analysis.notes,
    filesReviewed: analysis.filesReviewed,
    usage,
    costUsd,
    model: analysis.model,
    markers,
  });
}

function inlineComments(findings: readonly ArrangedFinding[]): ReviewCommentInput[] {
  return findings
    .filter((f) => f.inline)
    .map((f) => ({
      path: f.path,
      line: f.line,
      side: 'RIGHT' as const,
      ...(f.startLine !== undefined ? { start_line: f.startLine, start_side: 'RIGHT' as const } : {}),
      body: commentBody(f),
    }));
}

/** Posts the review; if GitHub rejects an inline position, posts everything in the summary instead. */
async function post(
  gh: GitHubPort,
  repo: RepoRef,
  pr: number,
  headSha: string,
  analysis: Analysis,
  report: ReviewReport,
  markers: string[],
  rendered: Rendered,
  progress: (m: string) => void,
): Promise<{ htmlUrl: string; commentsPosted: number; findingList: ReviewReport['findingList'] }> {
  const inline = analysis.findings.filter((f) => f.inline);
  const comments = inlineComments(analysis.findings);
  progress(`posting the review: ${comments.length} inline comment(s)`);
  try {
    const created = await gh.createReview(repo, pr, { commitId: headSha, body: analysis.body, comments });
    return { htmlUrl: created.htmlUrl, commentsPosted: comments.length, findingList: report.findingList };
  } catch (error) {
    if (!(error instanceof GitHubError) || error.status !== 422 || comments.length === 0) throw error;
    progress(`GitHub rejected an inline position (${error.message}); posting all findings in the summary`);
    for (const f of inline) {
      f.inline = false;
      f.summaryReason = 'GitHub did not accept an inline comment here';
    }
    analysis.notes.push('GitHub did not accept the inline comments, so every finding is listed below.');
    const body = summaryOf(analysis, report.tokens, report.costUsd, markers);
    analysis.body = body;
    rendered.markdown = body;
    rendered.comments = [];
    const created = await gh.createReview(repo, pr, { commitId: headSha, body, comments: [] });
    return {
      htmlUrl: created.htmlUrl,
      commentsPosted: 0,
      findingList: report.findingList.map((f) => ({ ...f, inline: false })),
    };
  }
}
