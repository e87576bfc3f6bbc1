// Stage 6, publish: findings arranged onto the diff, the summary rendered, the review posted (the
// findings of inline positions the host refuses listed in the summary instead), and the check run
// concluded with the outcome.
import type { CheckRunConclusion, TokenUsage } from '@kritik/core';
import type { CodeHost, ReviewCommentInput } from '../../code-host/code-host.js';
import type { EffectiveConfig, LoadedConfig } from '../../config/config.js';
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
  /** The ReviewPolicies applied, named in the footer. */
  policies?: readonly string[];
  model: string | null;
  exploration?: ExplorationFacts;
  /** Set when the model was needed and no request succeeded. */
  failure?: string;
  learnedRules?: readonly string[];
}

export interface ArrangeOutcomeInput {
  raw: RawFinding[];
  collected: Collected;
  loaded: EffectiveConfig;
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
    policies: input.loaded.policies,
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
    ...(outcome.policies ? { policies: outcome.policies } : {}),
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
      ...(f.startLine !== undefined
        ? {
            start_line: f.startLine,
            start_side: 'RIGHT' as const,
            singleLineBody: commentBody({ ...f, suggestion: undefined }),
          }
        : {}),
      body: commentBody(f),
    }));
}

export interface Posted {
  htmlUrl: string;
  commentsPosted: number;
  /** The body and comments as posted (the fallback changes both). */
  body: string;
  comments: ReviewCommentInput[];
}

/**
 * Posts the review. The summary is rendered once the host has said which inline comments it
 * refused (GitHub: all or none, GitLab: one by one); their findings are listed in it instead. The
 * first review carries the summary; after that, where the host edits it in place, the summary is
 * edited and a new review only carries the new inline comments.
 */
export async function post(
  gh: CodeHost,
  target: PullTarget,
  outcome: Outcome,
  rerender: () => string,
  progress: (m: string) => void,
): Promise<Posted> {
  const inline = outcome.findings.filter((f) => f.inline);
  const comments = inlineComments(inline);
  const edit = gh.updateReview?.bind(gh);
  const summary = edit && target.summary ? { ...target.summary, edit } : undefined;
  progress(`posting the review: ${comments.length} inline comment(s)${summary ? ', summary edited in place' : ''}`);
  let note: string | undefined;
  let body = '';
  const render = (refused: ReadonlySet<number>): string => {
    for (const [i, f] of inline.entries()) {
      f.inline = !refused.has(i);
      if (refused.has(i)) f.summaryReason = `${gh.name} did not accept an inline comment here`;
      else delete f.summaryReason;
    }
    if (note) outcome.notes.splice(outcome.notes.indexOf(note), 1);
    note = undefined;
    if (refused.size > 0) {
      note =
        refused.size === comments.length
          ? `${gh.name} did not accept the inline comments, so every finding is listed below.`
          : `${gh.name} did not accept ${refused.size} of the inline comments; their findings are listed below.`;
      outcome.notes.push(note);
      progress(`${gh.name} refused ${refused.size} inline position(s); their findings go in the summary`);
    }
    body = rerender();
    return body;
  };
  if (!summary) {
    const posted = await gh.createReview(target.repo, target.number, {
      commitId: target.headSha,
      comments,
      body: render,
    });
    const placed = comments.filter((_, i) => !posted.refused.has(i));
    return { htmlUrl: posted.htmlUrl, commentsPosted: placed.length, body: posted.body, comments: placed };
  }
  let placed: ReviewCommentInput[] = [];
  if (comments.length > 0) {
    const posted = await gh.createReview(target.repo, target.number, {
      commitId: target.headSha,
      comments,
      body: (refused) => {
        render(refused);
        return inlineNote(comments.length - refused.size, target, summary.htmlUrl);
      },
    });
    placed = comments.filter((_, i) => !posted.refused.has(i));
  } else render(new Set());
  await summary.edit(target.repo, target.number, summary.id, body);
  return { htmlUrl: summary.htmlUrl, commentsPosted: placed.length, body, comments: placed };
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
  await checkRun.conclude(
    conclusion,
    {
      title: n > 0 ? `${n} finding(s): ${formatCounts(countBySeverity(outcome.findings))}` : 'No findings',
      summary:
        `${posted.commentsPosted} inline comment(s) posted in [the review](${posted.htmlUrl}). ` +
        `${outcome.filesReviewed} file(s) reviewed, ${outcome.skipped.length} not reviewed.`,
      text: posted.body.replace(/<!--[\s\S]*?-->/g, ''),
    },
    posted.htmlUrl,
  );
}
