// Stage 6, publish: findings arranged onto the diff, the summary rendered, the COMMENT review
// posted (falling back to a summary-only review when GitHub refuses an inline position), and the
// check run concluded with the outcome.
import type { CheckRunConclusion, TokenUsage } from '@kritik/core';
import type { LoadedConfig } from '../../config/config.js';
import { GitHubError, type GitHubPort, type ReviewCommentInput } from '../../github/github.js';
import { type ArrangedFinding, arrangeFindings, commentBody, countBySeverity, type RawFinding } from '../findings.js';
import { fingerprintMarker, SUMMARY_MARKER } from '../fingerprint.js';
import { buildSummary, type ExplorationFacts, formatCounts, type SkippedFile } from '../summary.js';
import type { CheckRunHandle } from './check-run.js';
import type { Collected, PullTarget } from './gather.js';

/** Everything the review found and did not do, ready to render. */
export interface Outcome {
  findings: ArrangedFinding[];
  summaries: string[];
  skipped: SkippedFile[];
  filesReviewed: number;
  notes: string[];
  configIssues: LoadedConfig['issues'];
  model: string | null;
  exploration?: ExplorationFacts;
  /** Set when the model was needed and no request succeeded. */
  failure?: string;
  learnedRules?: readonly string[];
}

export interface ArrangeOutcomeInput {
  raw: RawFinding[];
  collected: Collected;
  loaded: LoadedConfig;
  seen: ReadonlySet<string>;
  summaries: string[];
  skipped: SkippedFile[];
  reviewed: number;
  notes: string[];
  model: string | null;
  exploration?: ExplorationFacts;
  failure?: string;
  learnedRules?: readonly string[];
}

export function arrangeOutcome(input: ArrangeOutcomeInput): Outcome {
  const config = input.loaded.config;
  const notes = [...input.notes];
  // A file split into parts and only partly reviewed appears in both lists, which is accurate.
  const arranged = arrangeFindings({
    findings: input.raw,
    index: input.collected.index,
    minSeverity: config.min_severity,
    maxComments: config.max_comments,
    seen: input.seen,
  });
  if (arranged.duplicates > 0)
    notes.push(`${arranged.duplicates} finding(s) already raised earlier were not repeated.`);
  if (arranged.belowSeverity > 0)
    notes.push(`${arranged.belowSeverity} finding(s) below min_severity (${config.min_severity}) were left out.`);
  const skipped = [...input.skipped].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    findings: arranged.findings,
    summaries: input.summaries,
    skipped,
    filesReviewed: input.reviewed,
    notes,
    configIssues: input.loaded.issues,
    model: input.model,
    ...(input.exploration ? { exploration: input.exploration } : {}),
    ...(input.failure ? { failure: input.failure } : {}),
    ...(input.learnedRules && input.learnedRules.length > 0 ? { learnedRules: input.learnedRules } : {}),
  };
}

export function renderBody(outcome: Outcome, usage: TokenUsage, costUsd: number, markers: readonly string[]): string {
  return buildSummary({
    summaries: outcome.summaries,
    findings: outcome.findings,
    skipped: outcome.skipped,
    configIssues: outcome.configIssues,
    notes: outcome.notes,
    filesReviewed: outcome.filesReviewed,
    usage,
    costUsd,
    model: outcome.model,
    markers,
    ...(outcome.exploration ? { exploration: outcome.exploration } : {}),
    ...(outcome.learnedRules ? { learnedRules: outcome.learnedRules } : {}),
  });
}

export function inlineComments(findings: readonly ArrangedFinding[]): ReviewCommentInput[] {
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

export interface Posted {
  htmlUrl: string;
  commentsPosted: number;
  /** The body and comments as posted (the fallback changes both). */
  body: string;
  comments: ReviewCommentInput[];
  allInSummary: boolean;
}

/**
 * Posts the review. The first one carries the summary; after that the summary review is edited in
 * place and a new review only carries the new inline comments. If GitHub rejects an inline
 * position, every finding goes into the summary instead.
 */
export async function post(
  gh: GitHubPort,
  target: PullTarget,
  outcome: Outcome,
  body: string,
  rerender: () => string,
  progress: (m: string) => void,
): Promise<Posted> {
  const comments = inlineComments(outcome.findings);
  const summary = target.summary;
  progress(`posting the review: ${comments.length} inline comment(s)${summary ? ', summary edited in place' : ''}`);
  let posted: Posted;
  try {
    if (!summary) {
      const created = await gh.createReview(target.repo, target.number, { commitId: target.headSha, body, comments });
      return { htmlUrl: created.htmlUrl, commentsPosted: comments.length, body, comments, allInSummary: false };
    }
    if (comments.length > 0)
      await gh.createReview(target.repo, target.number, {
        commitId: target.headSha,
        body: inlineNote(comments.length, target, summary.htmlUrl),
        comments,
      });
    posted = { htmlUrl: summary.htmlUrl, commentsPosted: comments.length, body, comments, allInSummary: false };
  } catch (error) {
    if (!(error instanceof GitHubError) || error.status !== 422 || comments.length === 0) throw error;
    progress(`GitHub rejected an inline position (${error.message}); posting all findings in the summary`);
    for (const f of outcome.findings.filter((x) => x.inline)) {
      f.inline = false;
      f.summaryReason = 'GitHub did not accept an inline comment here';
    }
    outcome.notes.push('GitHub did not accept the inline comments, so every finding is listed below.');
    const fallback = rerender();
    if (!summary) {
      const created = await gh.createReview(target.repo, target.number, {
        commitId: target.headSha,
        body: fallback,
        comments: [],
      });
      return { htmlUrl: created.htmlUrl, commentsPosted: 0, body: fallback, comments: [], allInSummary: true };
    }
    posted = { htmlUrl: summary.htmlUrl, commentsPosted: 0, body: fallback, comments: [], allInSummary: true };
  }
  await gh.updateReview(target.repo, target.number, summary.id, posted.body);
  return posted;
}

/** The body of a later push's review: its inline comments, pointing at the summary it updated. */
export function inlineNote(count: number, target: PullTarget, summaryUrl: string): string {
  return (
    `Kritik: ${count} new finding(s) at \`${target.headSha.slice(0, 7)}\`; ` +
    `[the summary](${summaryUrl}) is updated in place.\n\n${target.marker}`
  );
}

/** Hidden fingerprints an edited summary carries over from its earlier version, newest kept. */
const MAX_CARRIED_FINGERPRINTS = 600;

/**
 * The hidden markers at the end of the summary: that it is the summary, the fingerprints its
 * earlier versions listed (so an edit forgets none), and last the review marker, the one read.
 */
export function summaryMarkers(target: PullTarget): string[] {
  const carried = [...new Set(target.summary?.fingerprints ?? [])].slice(-MAX_CARRIED_FINGERPRINTS);
  return [SUMMARY_MARKER, ...(carried.length > 0 ? [carried.map(fingerprintMarker).join('')] : []), target.marker];
}

/** Concludes the check run with what was posted. */
export async function concludePosted(checkRun: CheckRunHandle, outcome: Outcome, posted: Posted): Promise<void> {
  const n = outcome.findings.length;
  const conclusion: CheckRunConclusion = n > 0 ? 'neutral' : 'success';
  await checkRun.conclude(conclusion, {
    title: n > 0 ? `${n} finding(s): ${formatCounts(countBySeverity(outcome.findings))}` : 'No findings',
    summary:
      `${posted.commentsPosted} inline comment(s) posted in [the review](${posted.htmlUrl}). ` +
      `${outcome.filesReviewed} file(s) reviewed, ${outcome.skipped.length} not reviewed.`,
    text: posted.body.replace(/<!--[\s\S]*?-->/g, ''),
  });
}
