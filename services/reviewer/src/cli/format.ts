// Renders a finished review for the terminal: text for people, Markdown as posted, JSON for tools.
import type { ReviewRun } from '../review/engine.js';
import { severityLabel } from '../review/findings.js';
import { inlineCode } from '../review/sanitize.js';
import { formatCounts } from '../review/summary.js';

export const FORMATS = ['text', 'markdown', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** Everything printed on stdout; the last line is always the JSON result. */
export function renderOutput(run: ReviewRun, format: Format): string {
  // Status and reason first, so a person scanning the line sees the outcome.
  const { status, reason, ...rest } = run.report;
  const json = JSON.stringify({ status, reason, ...rest });
  if (format === 'json') return `${json}\n`;
  const human = format === 'markdown' ? renderMarkdown(run) : renderText(run);
  return `${human.trimEnd()}\n\n${json}\n`;
}

function renderText(run: ReviewRun): string {
  const r = run.report;
  const out: string[] = [];
  out.push(`Kritik: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
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
