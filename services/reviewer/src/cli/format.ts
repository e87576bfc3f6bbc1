// Renders a finished review for the terminal: text for people, Markdown as posted, JSON for tools.
import type { Severity } from '@kritik/core';
import type { ReviewRun } from '../review/engine.js';
import { severityLabel } from '../review/findings.js';
import { inlineCode } from '../review/sanitize.js';
import { formatCounts } from '../review/summary.js';

export const FORMATS = ['text', 'markdown', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** Severities `--fail-on` accepts: a finding at this level or above makes the exit code non-zero. */
export const FAIL_ON = ['critical', 'major', 'minor'] as const;
export type FailOn = (typeof FAIL_ON)[number];
const RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, nit: 3 };

/** How many findings are at `threshold` or above. */
export function findingsAtOrAbove(run: ReviewRun, threshold: FailOn): number {
  return Object.entries(run.report.findings)
    .filter(([severity]) => RANK[severity as Severity] <= RANK[threshold])
    .reduce((sum, [, count]) => sum + count, 0);
}

/** What the review was of: a local diff is never posted, so its headline must not say "skipped". */
export type Subject = 'diff' | 'pull request';

/** Everything printed on stdout: exactly the chosen format, so it can be piped (progress goes to stderr). */
export function renderOutput(run: ReviewRun, format: Format, subject: Subject = 'pull request'): string {
  if (format === 'json') {
    // Status and reason first, so a person scanning the line sees the outcome.
    const { status, reason, ...rest } = run.report;
    return `${JSON.stringify({ status, reason, ...rest })}\n`;
  }
  const human = format === 'markdown' ? renderMarkdown(run) : renderText(run, subject);
  return `${human.trimEnd()}\n`;
}

/** The first line of the text format: what happened, in words that are true for the subject. */
export function headline(run: ReviewRun, subject: Subject): string {
  const r = run.report;
  if (r.dryRun && r.status === 'skipped') {
    if (subject === 'diff')
      return r.filesReviewed + r.filesSkipped === 0
        ? 'Kritik: nothing to review (the diff changes no file)'
        : 'Kritik: reviewed the local diff (nothing is posted for a local diff)';
    return 'Kritik: reviewed (dry run: nothing posted)';
  }
  return `Kritik: ${r.status}${r.reason ? ` (${r.reason})` : ''}`;
}

function renderText(run: ReviewRun, subject: Subject): string {
  const r = run.report;
  const out: string[] = [];
  out.push(headline(run, subject));
  out.push(
    `${formatCounts(r.findings)} · ${r.filesReviewed} file(s) reviewed, ${r.filesSkipped} not reviewed` +
      (r.model ? ` · ${r.model} · $${r.costUsd.toFixed(4)}` : ' · deterministic checks only (no model)'),
  );
  if (r.findingList.length > 0) {
    out.push('');
    for (const f of r.findingList) {
      out.push(
        `${severityLabel(f.severity).padEnd(12)} ${f.path}:${f.line}  ${f.title}${f.inline ? '' : '  [summary]'}`,
      );
    }
  }
  if (r.skippedFiles.length > 0) {
    out.push('', 'Not reviewed:');
    for (const s of r.skippedFiles.slice(0, 40)) out.push(`  ${s.path} — ${s.reason}`);
    if (r.skippedFiles.length > 40) out.push(`  …and ${r.skippedFiles.length - 40} more (see --format json)`);
  }
  if (r.reviewUrl) out.push('', `Review: ${r.reviewUrl}`);
  return out.join('\n');
}

function renderMarkdown(run: ReviewRun): string {
  const out: string[] = [run.markdown.replace(/\n*(<!-- kritik:[^>]*-->\n?)+$/g, '') || `Kritik: ${run.report.status}`];
  if (run.comments.length > 0) {
    out.push('---', '## Inline comments');
    for (const c of run.comments) {
      const where = c.start_line !== undefined ? `${c.path}:${c.start_line}-${c.line}` : `${c.path}:${c.line}`;
      out.push(`### ${inlineCode(where)}\n\n${c.body.replace(/\n*<!-- kritik:fp=[0-9a-f]+ -->$/, '')}`);
    }
  }
  return out.join('\n\n');
}
