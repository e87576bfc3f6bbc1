// Finds the Kritik series (and their labels) a PromQL expression or the operations guide's metric
// table names, and checks them against core's METRICS table.
import { HISTOGRAM_SUFFIXES, METRICS, type MetricDefinition } from '@kritik/core';

/** A series named somewhere, with the labels it is filtered or grouped by there. */
export interface SeriesReference {
  readonly name: string;
  readonly labels: readonly string[];
}

const KRITIK_SERIES = /\bkritik_[a-z0-9_]+\b/g;
// Process metrics come from prom-client under our prefix, not from the table.
const PROCESS_SERIES = /^kritik_(process|nodejs)_/;
const MATCHER_LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g;

const GROUPING = /\b(?:by|without)\s*\(([^)]*)\)\s*\(/g;

/**
 * The `kritik_*` series an expression reads, each with the labels of its selector and of the
 * `by (...)` groupings around it.
 */
export function seriesInExpression(expr: string): SeriesReference[] {
  const groupings: { from: number; to: number; labels: string[] }[] = [];
  for (const match of expr.matchAll(GROUPING)) {
    const open = match.index + match[0].length - 1;
    const labels = match[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean);
    groupings.push({ from: open, to: closingParen(expr, open), labels });
  }
  const refs: SeriesReference[] = [];
  for (const match of expr.matchAll(KRITIK_SERIES)) {
    if (PROCESS_SERIES.test(match[0])) continue;
    const rest = expr.slice(match.index + match[0].length);
    const selector = (/^\s*\{([^}]*)\}/.exec(rest)?.[1] ?? '').replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const grouped = groupings.filter((g) => g.from < match.index && match.index < g.to).flatMap((g) => g.labels);
    refs.push({ name: match[0], labels: [...[...selector.matchAll(MATCHER_LABEL)].map((m) => m[1]!), ...grouped] });
  }
  return refs;
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length;
}

/** The rows of a Markdown table whose first cell is a `` `kritik_x{a,b}` `` series. */
export function seriesInMetricTable(markdown: string): (SeriesReference & { type: string; from: string })[] {
  const rows: (SeriesReference & { type: string; from: string })[] = [];
  for (const line of markdown.split('\n')) {
    const row = /^\|\s*`(kritik_[a-z0-9_]+)(?:\{([^}]*)\})?`\s*\|\s*([a-z]+)\s*\|\s*([a-z]+)\s*\|/.exec(line);
    if (!row) continue;
    const labels = row[2] ? row[2].split(',').map((l) => l.trim()) : [];
    rows.push({ name: row[1]!, labels, type: row[3]!, from: row[4]! });
  }
  return rows;
}

const definitions: readonly MetricDefinition[] = Object.values(METRICS);

/** The definition a series name belongs to (a histogram's `_bucket`, `_sum`, `_count` included). */
export function definitionOf(name: string): MetricDefinition | undefined {
  return definitions.find(
    (d) => d.name === name || (d.type === 'histogram' && HISTOGRAM_SUFFIXES.some((s) => `${d.name}${s}` === name)),
  );
}

/** What is wrong with a reference: an unknown series, or a label the series does not have. */
export function problemsOf(refs: readonly SeriesReference[]): string[] {
  const problems: string[] = [];
  for (const ref of refs) {
    const definition = definitionOf(ref.name);
    if (!definition) {
      problems.push(`${ref.name} is not in METRICS`);
      continue;
    }
    // A histogram's buckets carry `le` beside the table's labels.
    const known = new Set<string>([...definition.labels, ...(definition.type === 'histogram' ? ['le'] : [])]);
    for (const label of ref.labels) {
      if (!known.has(label)) problems.push(`${ref.name} has no label ${label}`);
    }
  }
  return problems;
}
