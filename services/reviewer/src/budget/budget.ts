// Decides what the model sees: files in order of value, split into hunk-sized parts when one is
// bigger than a request, packed into requests under max_input_tokens. Pure; the cost cap is
// enforced while sending (CostGate), because only real usage tells what was spent.

import type { ModelPrice } from '@kritik/core';
import type { DiffFile, Hunk } from '../diff/diff.js';
import { renderFileHeader, renderHunks } from '../prompt/render.js';
import { classify, type FileKind, KIND_ORDER } from './classify.js';
import { estimateTokens } from './tokens.js';

/** A file, or a part of one, rendered for the prompt. */
export interface ReviewUnit {
  file: DiffFile;
  hunks: Hunk[];
  kind: FileKind;
  text: string;
  tokens: number;
  part?: { index: number; of: number };
}

export interface PackInput {
  files: readonly DiffFile[];
  /** Tokens of everything in a request besides the diff (system prompt, tool, PR description). */
  overheadTokens: number;
  maxInputTokens: number;
}

export interface PackResult {
  /** Requests to send, most valuable first. */
  batches: ReviewUnit[][];
  /** Files with a single hunk larger than a whole request. */
  tooLarge: DiffFile[];
}

/** Orders files by value: source before config before tests before docs, bigger changes first. */
export function byValue(a: DiffFile, b: DiffFile): number {
  return (
    KIND_ORDER[classify(a.path)] - KIND_ORDER[classify(b.path)] ||
    b.additions + b.deletions - (a.additions + a.deletions) ||
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
  );
}

export function packRequests(input: PackInput): PackResult {
  const room = input.maxInputTokens - input.overheadTokens;
  const tooLarge: DiffFile[] = [];
  const units: ReviewUnit[] = [];
  for (const file of [...input.files].sort(byValue)) {
    const split = unitsOf(file, room);
    if (split) units.push(...split);
    else tooLarge.push(file);
  }
  // First fit in value order: the first requests carry the most valuable files, so a budget that
  // runs out drops the least valuable ones.
  const batches: ReviewUnit[][] = [];
  let current: ReviewUnit[] = [];
  let used = 0;
  for (const unit of units) {
    if (current.length > 0 && used + unit.tokens > room) {
      batches.push(current);
      current = [];
      used = 0;
    }
    current.push(unit);
    used += unit.tokens;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}

function render(file: DiffFile, hunks: Hunk[], part?: ReviewUnit['part']): ReviewUnit {
  const text = renderHunks(file, hunks, { part });
  return { file, hunks, kind: classify(file.path), text, tokens: estimateTokens(text) + 1, part };
}

/** The file as one unit, or as consecutive hunk groups that each fit; null if a hunk cannot fit. */
function unitsOf(file: DiffFile, room: number): ReviewUnit[] | null {
  const whole = render(file, file.hunks);
  if (whole.tokens <= room) return [whole];
  // Sizes add up hunk by hunk, so grouping needs no re-rendering.
  const header = estimateTokens(renderFileHeader(file, { index: 99, of: 99 })) + 1;
  const groups: Hunk[][] = [];
  let group: Hunk[] = [];
  let used = header;
  for (const h of file.hunks) {
    const size = estimateTokens(renderHunks(file, [h], { noHeader: true })) + 1;
    if (header + size > room) return null;
    if (group.length > 0 && used + size > room) {
      groups.push(group);
      group = [];
      used = header;
    }
    group.push(h);
    used += size;
  }
  if (group.length > 0) groups.push(group);
  return groups.map((hunks, i) => render(file, hunks, { index: i + 1, of: groups.length }));
}

/** Output tokens below which a request is not worth sending. */
export const MIN_OUTPUT_TOKENS = 1_024;
export const MAX_OUTPUT_TOKENS = 8_192;

/**
 * Keeps total spend under max_cost_usd: before each request it prices the input (the cached
 * prefix at the cache-write rate, the worst case) and gives the reply only as many output
 * tokens as the rest of the budget pays for.
 */
export class CostGate {
  spent = 0;

  constructor(
    private readonly maxCostUsd: number,
    private readonly price: ModelPrice,
  ) {}

  /** max_tokens for the next request, or 0 when the budget cannot pay for a useful one. */
  outputAllowance(cachedTokens: number, otherInputTokens: number): number {
    const inputCost = (cachedTokens * this.price.cacheWrite + otherInputTokens * this.price.input) / 1_000_000;
    const left = this.maxCostUsd - this.spent - inputCost;
    if (left <= 0) return 0;
    const affordable = Math.floor((left * 1_000_000) / this.price.output);
    const allowance = Math.min(MAX_OUTPUT_TOKENS, affordable);
    return allowance >= MIN_OUTPUT_TOKENS ? allowance : 0;
  }

  record(costUsd: number): void {
    this.spent += costUsd;
  }
}
