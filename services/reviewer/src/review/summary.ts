// Pure builders of the review summary (the review body) and the check run output. The summary
// names everything that was not posted inline and every file that was not reviewed, with why.
import type { Severity, SkippedFile, TokenUsage } from '@kritik/core';
import { type ConfigIssue, describeIssue } from '../config/config.js';
import { type ArrangedFinding, countBySeverity, severityLabel } from './findings.js';
import { withOwnMarkers } from './fingerprint.js';
import { inlineCode, neutralise, sanitizeMarkdown } from './sanitize.js';

export type { SkippedFile };

/** What exploring the repository did, for the footer. */
export interface ExplorationFacts {
  /** Files read with read_file that are not in the diff. */
  filesReadBeyondDiff: number;
  turns: number;
  /** Maintainer instruction files (AGENTS.md...) that were given to the model. */
  instructionFiles: readonly string[];
}

export interface SummaryInput {
  summaries: readonly string[];
  findings: readonly ArrangedFinding[];
  skipped: readonly SkippedFile[];
  configIssues: readonly ConfigIssue[];
  /** The ReviewPolicies that shaped this review's config, lowest priority first. */
  policies?: readonly string[];
  /** Plain notes for the reader (deterministic-only mode, incremental scope, partial failures). */
  notes: readonly string[];
  filesReviewed: number;
  usage: TokenUsage;
  costUsd: number;
  model: string | null;
  /** Hidden markers appended at the end (review marker). */
  markers: readonly string[];
  exploration?: ExplorationFacts;
  /** Rules learned from the team's dismissals that the prompt carried, newest first. */
  learnedRules?: readonly string[];
}

const MAX_LISTED = 60;
/** GitHub rejects review bodies over 65,536 characters. */
const MAX_BODY = 60_000;

export function formatCounts(counts: Record<Severity, number>): string {
  const parts = (Object.entries(counts) as [Severity, number][]).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`);
  return parts.length === 0 ? 'no findings' : parts.join(', ');
}

export function buildSummary(input: SummaryInput): string {
  // The review marker goes after the defused text: the only review marker Kritik reads is the last.
  return `${withOwnMarkers((fingerprintMarker) => summaryText(input, fingerprintMarker))}\n\n${input.markers.join('\n')}`;
}

function summaryText(input: SummaryInput, fingerprintMarker: (fp: string) => string): string {
  const out: string[] = ['## Kritik review'];
  const summaries = input.summaries.map((s) => sanitizeMarkdown(s.trim(), 3_000)).filter(Boolean);
  if (summaries.length > 0) out.push(summaries.join('\n\n'));
  for (const note of input.notes) out.push(`> ${neutralise(note)}`);

  const inline = input.findings.filter((f) => f.inline);
  const elsewhere = input.findings.filter((f) => !f.inline);
  out.push(
    `**Findings:** ${formatCounts(countBySeverity(input.findings))}` +
      (input.findings.length > 0 ? ` — ${inline.length} inline, ${elsewhere.length} below.` : '.'),
  );

  if (elsewhere.length > 0) {
    const lines = ['### Findings not posted inline'];
    for (const f of elsewhere.slice(0, MAX_LISTED)) {
      const where = inlineCode(`${f.path}:${f.line}`);
      const why = f.summaryReason ? ` _(${f.summaryReason})_` : '';
      const body = f.body ? `\n  ${f.body.split('\n').join('\n  ')}` : '';
      lines.push(
        `- **${severityLabel(f.severity)}** ${where} ${f.title}${why}${body} ${fingerprintMarker(f.fingerprint)}`,
      );
    }
    if (elsewhere.length > MAX_LISTED) {
      lines.push(`- …and ${elsewhere.length - MAX_LISTED} more`);
      // Keep the hidden fingerprints of the unlisted ones so they are not raised again.
      lines.push(
        elsewhere
          .slice(MAX_LISTED)
          .map((f) => fingerprintMarker(f.fingerprint))
          .join(''),
      );
    }
    out.push(lines.join('\n'));
  }

  if (input.skipped.length > 0) {
    const lines = [`### Not reviewed (${input.skipped.length} file${input.skipped.length === 1 ? '' : 's'})`];
    for (const s of input.skipped.slice(0, MAX_LISTED)) lines.push(`- ${inlineCode(s.path)} — ${neutralise(s.reason)}`);
    if (input.skipped.length > MAX_LISTED) {
      const rest = input.skipped.slice(MAX_LISTED);
      const reasons = new Map<string, number>();
      for (const s of rest) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
      const byReason = [...reasons].map(([r, n]) => `${n} ${r}`).join('; ');
      lines.push(`- …and ${rest.length} more (${byReason})`);
    }
    out.push(lines.join('\n'));
  }

  if (input.configIssues.length > 0) {
    out.push(
      ['### Configuration problems (defaults used)', ...input.configIssues.map((i) => `- ${describeIssue(i)}`)].join(
        '\n',
      ),
    );
  }

  const tokens = input.usage.input + input.usage.cacheRead + input.usage.cacheWrite;
  const stats = [
    `${input.filesReviewed} file${input.filesReviewed === 1 ? '' : 's'} reviewed`,
    input.model ? `${input.model}` : 'deterministic checks only',
    input.model ? `${tokens} input / ${input.usage.output} output tokens` : null,
    input.model ? `$${input.costUsd.toFixed(4)}` : null,
    input.exploration && input.exploration.turns > 0
      ? `${input.exploration.filesReadBeyondDiff} file${input.exploration.filesReadBeyondDiff === 1 ? '' : 's'} read beyond the diff`
      : null,
    input.exploration && input.exploration.instructionFiles.length > 0
      ? `instructions from ${input.exploration.instructionFiles.map((f) => inlineCode(f)).join(', ')}`
      : null,
    input.policies && input.policies.length > 0
      ? `polic${input.policies.length === 1 ? 'y' : 'ies'} ${input.policies.map((p) => inlineCode(p)).join(', ')}`
      : null,
  ].filter(Boolean);
  if (input.learnedRules && input.learnedRules.length > 0) {
    // Rules hold a team member's reason: plain text here, never Markdown that could reshape the body.
    const rules = input.learnedRules.map((r) => `- ${neutralise(r)}`).join('\n');
    out.push(
      `<details><summary>Learned rules applied (${input.learnedRules.length})</summary>\n\n${rules}\n\n</details>`,
    );
  }
  out.push(`<sub>Kritik · ${stats.join(' · ')}</sub>`);
  let body = out.join('\n\n');
  const markers = input.markers.join('\n');
  if (body.length + markers.length + 2 > MAX_BODY)
    body = `${body.slice(0, MAX_BODY - markers.length - 20)}\n\n…truncated`;
  return body;
}
