// Hidden markers in posted comments: a fingerprint per finding (path + normalised title + hash of
// the code line) so no finding is ever posted twice, and a marker naming the SHA a review covered.
import { createHash } from 'node:crypto';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function normaliseTitle(title: string): string {
  return title
    .toLowerCase()
    .replace(/[`'"*_]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Stable across pushes as long as the same problem sits on the same code, wherever the line moves. */
export function fingerprint(path: string, title: string, codeLine: string): string {
  const code = sha256(codeLine.trim().replace(/\s+/g, ' '));
  return sha256(`${path}\n${normaliseTitle(title)}\n${code}`).slice(0, 16);
}

export const fingerprintMarker = (fp: string) => `<!-- kritik:fp=${fp} -->`;

export function extractFingerprints(body: string | null | undefined): string[] {
  return [...(body ?? '').matchAll(/<!-- kritik:fp=([0-9a-f]{16}) -->/g)].map((m) => m[1]!);
}

export interface ReviewMarker {
  head: string;
  base?: string;
  id?: string;
}

export function reviewMarker(m: ReviewMarker): string {
  const parts = [`head=${m.head}`];
  if (m.base) parts.push(`base=${m.base}`);
  if (m.id) parts.push(`id=${m.id}`);
  return `<!-- kritik:review ${parts.join(' ')} -->`;
}

export function parseReviewMarker(body: string | null | undefined): ReviewMarker | null {
  const m = /<!-- kritik:review head=([0-9a-f]{7,64})(?: base=([0-9a-f]{7,64}))?(?: id=([0-9a-z]+))? -->/.exec(
    body ?? '',
  );
  if (!m) return null;
  return { head: m[1]!, ...(m[2] ? { base: m[2] } : {}), ...(m[3] ? { id: m[3] } : {}) };
}

/** Whether a comment or review body was written by Kritik. */
export const isKritikBody = (body: string | null | undefined) => /<!-- kritik:(fp=|review )/.test(body ?? '');
