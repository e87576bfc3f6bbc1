// Stage 6, publish: findings arranged onto the diff, the summary rendered, the review posted (the
// findings of inline positions the host refuses listed in the summary instead), and the check run
// concluded with the outcome.
import type { CheckRunConclusion, TokenUsage } from '@kritik/core';
import type { CodeHost, ReviewCommentInput } from '../../code-host/code-host.js';
import type { EffectiveConfig, LoadedConfig } from '../../config/config.js';
import { type ArrangedFinding, arrangeFindings, commentBody, countBySeverity, type RawFinding } from '../findings.js';
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
}

/**
 * Posts the review. The summary is rendered once the host has said which inline comments it
 * refused (GitHub: all or none, GitLab: one by one); their findings are listed in it instead.
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
  progress(`posting the review: ${comments.length} inline comment(s)`);
  let note: string | undefined;
  const posted = await gh.createReview(target.repo, target.number, {
    commitId: target.headSha,
    comments,
    body: (refused) => {
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
      return rerender();
    },
  });
  const placed = comments.filter((_, i) => !posted.refused.has(i));
  return {
    htmlUrl: posted.htmlUrl,
    commentsPosted: placed.length,
    body: posted.body,
    comments: placed,
  };
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
