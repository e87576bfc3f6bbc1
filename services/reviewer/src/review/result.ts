// The review's result: the core ReviewResult plus, for `--format json`, every finding and skipped
// file. The termination message gets a compacted copy that always fits Kubernetes' 4 KB limit.
import { RESULT_MAX_BYTES, type ReviewResult, reviewResultSchema, severitySchema, type TokenUsage } from '@kritik/core';
import { z } from 'zod';

export const findingReportSchema = z.object({
  path: z.string(),
  line: z.number().int(),
  severity: severitySchema,
  title: z.string(),
  /** True when it is (or in a dry run would be) an inline comment at that line; false when in the summary. */
  inline: z.boolean(),
});

export const skippedFileSchema = z.object({ path: z.string(), reason: z.string() });

/** What `--format json` prints: the result with every finding and skipped file listed. */
export const reviewReportSchema = reviewResultSchema.extend({
  findingList: z.array(findingReportSchema),
  skippedFiles: z.array(skippedFileSchema),
  dryRun: z.boolean().optional(),
  model: z.string().optional(),
  /** Model turns over all conversations (exploration and verification), when there was a checkout. */
  turns: z.number().int().optional(),
  toolCalls: z.number().int().optional(),
  /** Files read with read_file beyond the diff. */
  filesRead: z.number().int().optional(),
  verification: z
    .object({
      checked: z.number().int(),
      kept: z.number().int(),
      corrected: z.number().int(),
      dropped: z.number().int(),
    })
    .optional(),
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

/** The core result alone (what the worker stores), without the lists. */
export function coreResult(report: ReviewReport): ReviewResult {
  const {
    findingList: _f,
    skippedFiles: _s,
    dryRun: _d,
    model: _m,
    turns: _t,
    toolCalls: _c,
    filesRead: _r,
    verification: _v,
    ...core
  } = report;
  return reviewResultSchema.parse(core);
}

/** JSON of the core result in at most RESULT_MAX_BYTES bytes: the reason is shortened first, then the URL dropped. */
export function compactResult(result: ReviewResult): string {
  const fits = (r: ReviewResult) => Buffer.byteLength(JSON.stringify(r)) <= RESULT_MAX_BYTES;
  let r: ReviewResult = { ...result };
  if (fits(r)) return JSON.stringify(r);
  if (r.reason) {
    const overhead = Buffer.byteLength(JSON.stringify({ ...r, reason: '' }));
    const room = RESULT_MAX_BYTES - overhead - 8;
    let reason = r.reason;
    // Shrink by bytes as serialised (escapes and multi-byte characters count).
    while (room > 0 && Buffer.byteLength(JSON.stringify(reason)) - 2 > room) {
      reason = reason.slice(0, Math.max(0, Math.floor(reason.length * 0.9) - 1));
    }
    r = { ...r, reason: room > 0 ? `${reason}…` : undefined };
  }
  if (!fits(r)) r = { ...r, reviewUrl: undefined };
  // Dismissals last: each one dropped is only learned later (the next review sees it again).
  while (!fits(r) && r.dismissed && r.dismissed.length > 0) r = { ...r, dismissed: r.dismissed.slice(0, -1) };
  return JSON.stringify(r);
}
