// Turns raw findings (model and deterministic checks) into what gets posted: sanitised, filtered
// by severity, placed on diff lines, fingerprinted, deduplicated against earlier reviews, ordered
// most severe first and split into inline comments (up to max_comments) and summary entries.
import type { Severity } from '@kritik/core';
import { atLeast, SEVERITY_RANK } from '../config/config.js';
import { newLineText } from '../diff/diff.js';
import type { DiffIndex } from '../diff/line-map.js';
import type { Finding } from '../finding.js';
import { defuseMarkers, fingerprint, fingerprintMarker } from './fingerprint.js';
import { sanitizeMarkdown, sanitizeTitle, suggestionBlock } from './sanitize.js';

export interface RawFinding extends Finding {
  source: 'model' | 'check';
}

export interface ArrangedFinding {
  path: string;
  line: number;
  startLine?: number;
  severity: Severity;
  title: string;
  body: string;
  suggestion?: string;
  source: 'model' | 'check';
  fingerprint: string;
  /** Posted (or, in a dry run, would be posted) as an inline comment. */
  inline: boolean;
  /** Why it is in the summary instead of inline. */
  summaryReason?: string;
}

export interface ArrangeInput {
  findings: readonly RawFinding[];
  index: DiffIndex;
  minSeverity: Severity;
  maxComments: number;
  /** Fingerprints already posted on this pull request. */
  seen: ReadonlySet<string>;
}

export interface Arranged {
  /** Every finding to report, most severe first; `inline` tells where each goes. */
  findings: ArrangedFinding[];
  belowSeverity: number;
  duplicates: number;
}

export function arrangeFindings(input: ArrangeInput): Arranged {
  let belowSeverity = 0;
  let duplicates = 0;
  const taken = new Set(input.seen);
  const candidates: ArrangedFinding[] = [];
  for (const f of input.findings) {
    // Deterministic checks report secrets and conflicts whatever min_severity says.
    if (f.source === 'model' && !atLeast(f.severity, input.minSeverity)) {
      belowSeverity++;
      continue;
    }
    const title = sanitizeTitle(f.title) || 'Finding';
    const body = sanitizeMarkdown(f.body);
    const placement = input.index.place(f.path, f.line, f.end_line);
    const file = input.index.file(f.path);
    const anchor = placement.inline ? placement.line : f.line;
    const code = file ? (newLineText(file, anchor) ?? '') : '';
    const fp = fingerprint(placement.path, title, code);
    if (taken.has(fp)) {
      duplicates++;
      continue;
    }
    taken.add(fp);
    const requestedEnd = f.end_line !== undefined && f.end_line > f.line ? f.end_line : f.line;
    // A suggestion replaces exactly the lines it was written for; if placement clipped them, drop it.
    const exact =
      placement.inline && (placement.startLine ?? placement.line) === f.line && placement.line === requestedEnd;
    candidates.push({
      path: placement.path,
      line: placement.inline ? placement.line : f.line,
      ...(placement.inline && placement.startLine !== undefined ? { startLine: placement.startLine } : {}),
      severity: f.severity,
      title,
      body,
      ...(f.suggestion && exact ? { suggestion: f.suggestion } : {}),
      source: f.source,
      fingerprint: fp,
      inline: placement.inline,
      ...(placement.inline ? {} : { summaryReason: placement.reason }),
    });
  }
  candidates.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      (a.source === b.source ? 0 : a.source === 'check' ? -1 : 1) ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
      a.line - b.line,
  );
  let inlineLeft = input.maxComments;
  for (const f of candidates) {
    if (!f.inline) continue;
    if (inlineLeft > 0) inlineLeft--;
    else {
      f.inline = false;
      f.summaryReason = `over max_comments (${input.maxComments})`;
      delete f.suggestion;
      delete f.startLine;
    }
  }
  return { findings: candidates, belowSeverity, duplicates };
}

const SEVERITY_LABEL: Record<Severity, string> = {
  critical: '🔴 Critical',
  major: '🟠 Major',
  minor: '🟡 Minor',
  nit: '⚪ Nit',
};

export const severityLabel = (s: Severity) => SEVERITY_LABEL[s];

/** The body of an inline review comment. */
export function commentBody(f: ArrangedFinding): string {
  const parts = [`**${SEVERITY_LABEL[f.severity]}: ${f.title}**`];
  if (f.body) parts.push(f.body);
  if (f.suggestion !== undefined) parts.push(suggestionBlock(f.suggestion));
  return `${defuseMarkers(parts.join('\n\n'))}\n\n${fingerprintMarker(f.fingerprint)}`;
}

export function countBySeverity(findings: readonly { severity: Severity }[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, major: 0, minor: 0, nit: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}
