// The review's result: the core ReviewResult plus, for `--format json`, every finding and skipped
// file. The termination message gets a compacted copy that always fits Kubernetes' 4 KB limit.
import {
  MAX_DETAIL_CHARS,
  MAX_DETAIL_PATH_CHARS,
  postedFindingSchema,
  RESULT_MAX_BYTES,
  type ReviewResult,
  reviewResultSchema,
  skippedFileSchema,
  type TokenUsage,
} from '@kritik/core';
import { z } from 'zod';

/**
 * What `--format json` prints: the core result (whose detail fields it shares) with every finding
 * and skipped file listed, whatever the termination message can hold.
 */
export const reviewReportSchema = reviewResultSchema.extend({
  findingList: z.array(postedFindingSchema),
  skippedFiles: z.array(skippedFileSchema),
  dryRun: z.boolean().optional(),
});
export type ReviewReport = z.infer<typeof reviewReportSchema>;

/** A report with nothing found and nothing posted yet: what was spent and how long it took. */
export function blankReport(
  status: ReviewReport['status'],
  spent: { usage: TokenUsage; costUsd: number },
  durationMs: number,
): ReviewReport {
  return {
    status,
    findings: { critical: 0, major: 0, minor: 0, nit: 0 },
    commentsPosted: 0,
    filesReviewed: 0,
    filesSkipped: 0,
    tokens: { ...spent.usage },
    costUsd: Math.round(spent.costUsd * 1e6) / 1e6,
    durationMs: Math.max(0, Math.round(durationMs)),
    findingList: [],
    skippedFiles: [],
  };
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The core result (what the worker stores): the report's detail with every string within the core bounds. */
export function coreResult(report: ReviewReport): ReviewResult {
  const { findingList, skippedFiles, dryRun: _d, model, filesReadPaths, ...core } = report;
  return reviewResultSchema.parse({
    ...core,
    ...(model !== undefined ? { model: clip(model, MAX_DETAIL_CHARS) } : {}),
    ...(filesReadPaths?.length ? { filesReadPaths: filesReadPaths.map((p) => clip(p, MAX_DETAIL_PATH_CHARS)) } : {}),
    ...(findingList.length > 0
      ? {
          findingList: findingList.map((f) => ({
            ...f,
            path: clip(f.path, MAX_DETAIL_PATH_CHARS),
            title: clip(f.title, MAX_DETAIL_CHARS),
          })),
        }
      : {}),
    ...(skippedFiles.length > 0
      ? {
          skippedFiles: skippedFiles.map((s) => ({
            path: clip(s.path, MAX_DETAIL_PATH_CHARS),
            reason: clip(s.reason, MAX_DETAIL_CHARS),
          })),
        }
      : {}),
  });
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const fits = (r: ReviewResult) => bytes(r) <= RESULT_MAX_BYTES;

/** A reason kept whole only while it is this short, before any detail goes (ADR 0041). */
const REASON_FIRST_CUT_BYTES = 1_024;
/** Findings and skipped files kept in the first passes, before the rest of either list goes. */
const KEEP_FINDINGS = 10;
const KEEP_SKIPPED = 5;
/** No entry serialises under 4 bytes, so no more than this many could ever fit: cut there first, cheaply. */
const MOST_ENTRIES = Math.ceil(RESULT_MAX_BYTES / 4);

type ListKey = 'filesReadPaths' | 'findingList' | 'skippedFiles';
const OMITTED = { filesReadPaths: undefined, findingList: 'findingsOmitted', skippedFiles: 'skippedOmitted' } as const;

/**
 * Drops the last entries of one list until the result fits or `floor` entries remain, counting
 * what went in the list's "and N more" field. Sizes are summed per entry, not re-serialised, so
 * ten thousand findings cost one pass.
 */
function trimList(result: ReviewResult, key: ListKey, floor: number): ReviewResult {
  const list = result[key] as unknown[] | undefined;
  if (!list || list.length <= floor || fits(result)) return result;
  const omittedKey = OMITTED[key];
  const before = omittedKey ? (result[omittedKey] ?? 0) : 0;
  let kept = Math.min(list.length, MOST_ENTRIES);
  // Measured with the largest count the field could hold, so the final one never makes it longer.
  const draft = {
    ...result,
    [key]: list.slice(0, kept),
    ...(omittedKey ? { [omittedKey]: before + list.length } : {}),
  };
  let size = bytes(draft);
  while (kept > floor && size > RESULT_MAX_BYTES) {
    kept--;
    size -= bytes(list[kept]) + (kept > 0 ? 1 : 0);
  }
  const omitted = before + list.length - kept;
  const out: ReviewResult = { ...result, [key]: list.slice(0, kept) };
  if (kept === 0) delete out[key];
  if (omittedKey && omitted > 0) out[omittedKey] = omitted;
  return out;
}

/** `reason` shortened to at most `room` bytes as serialised (escapes and multi-byte characters count). */
function shorten(reason: string, room: number): string | undefined {
  if (room <= 0) return undefined;
  let text = reason;
  while (bytes(text) - 2 > room) text = text.slice(0, Math.max(0, Math.floor(text.length * 0.9) - 1));
  return `${text}…`;
}

/**
 * JSON of the result in at most RESULT_MAX_BYTES bytes, never losing its status or counts. What
 * goes, in order (ADR 0041): a reason beyond 1 KB, the read files' paths, findings beyond the
 * first ten, skipped files beyond the first five, the rest of both lists, the model's name, then (as before the detail existed) the rest of the reason, the review's URL, the
 * dismissals and the fallback's names.
 */
export function compactResult(result: ReviewResult): string {
  let r: ReviewResult = { ...result };
  if (fits(r)) return JSON.stringify(r);
  if (r.reason && bytes(r.reason) - 2 > REASON_FIRST_CUT_BYTES)
    r = { ...r, reason: shorten(r.reason, REASON_FIRST_CUT_BYTES) };
  r = trimList(r, 'filesReadPaths', 0);
  r = trimList(r, 'findingList', KEEP_FINDINGS);
  r = trimList(r, 'skippedFiles', KEEP_SKIPPED);
  r = trimList(r, 'findingList', 0);
  r = trimList(r, 'skippedFiles', 0);
  if (!fits(r)) {
    const { model: _m, ...rest } = r;
    r = rest;
  }
  if (!fits(r) && r.reason) {
    const room = RESULT_MAX_BYTES - bytes({ ...r, reason: '' }) - 8;
    r = { ...r, reason: shorten(r.reason, room) };
  }
  if (!fits(r)) r = { ...r, reviewUrl: undefined };
  // Dismissals late: each one dropped is only learned later (the next review sees it again).
  while (!fits(r) && r.dismissed && r.dismissed.length > 0) r = { ...r, dismissed: r.dismissed.slice(0, -1) };
  if (!fits(r) && r.fallback) r = { ...r, fallback: { ...r.fallback, from: '', to: '' } };
  return JSON.stringify(r);
}
