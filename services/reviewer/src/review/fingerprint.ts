// Hidden markers in posted comments: a fingerprint per finding (path + normalised title + hash of
// the code line) so no finding is ever posted twice, and a marker naming the SHA a review covered.
import { createHash, randomBytes } from 'node:crypto';

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

/** The review marker of a body: the last one, the one Kritik appends after everything else. */
export function parseReviewMarker(body: string | null | undefined): ReviewMarker | null {
  const all = [
    ...(body ?? '').matchAll(
      /<!-- kritik:review head=([0-9a-f]{7,64})(?: base=([0-9a-f]{7,64}))?(?: id=([0-9a-z]+))? -->/g,
    ),
  ];
  const m = all.at(-1);
  if (!m) return null;
  return { head: m[1]!, ...(m[2] ? { base: m[2] } : {}), ...(m[3] ? { id: m[3] } : {}) };
}

/**
 * Untrusted text (from the model or the pull request) with every would-be Kritik marker broken by
 * a zero-width space, so the only markers in a posted body are the ones Kritik appends. Applied
 * at the sink, once, to everything that precedes Kritik's own markers.
 */
export const defuseMarkers = (text: string) => text.replace(/(<!--\s*kritik)(\s*:)/gi, '$1\u200b$2');

/**
 * Builds a body that mixes untrusted text with Kritik's own fingerprint markers: `build` places
 * markers through `mark`, which stands them in as unguessable placeholders; everything else is
 * defused, and then the placeholders become the real markers.
 */
export function withOwnMarkers(build: (mark: (fp: string) => string) => string): string {
  const nonce = randomBytes(12).toString('hex');
  const body = build((fp) => `\u0000${nonce}${fp}\u0000`);
  return body
    .split(new RegExp(`\u0000${nonce}([0-9a-f]{16})\u0000`))
    .map((part, i) => (i % 2 === 1 ? fingerprintMarker(part) : defuseMarkers(part.replaceAll('\u0000', ''))))
    .join('');
}

/** Marks the review whose body is Kritik's summary of the pull request, edited in place on every push. */
export const SUMMARY_MARKER = '<!-- kritik:summary -->';

export const isSummaryBody = (body: string | null | undefined) => (body ?? '').includes(SUMMARY_MARKER);

/** Whether a comment or review body carries Kritik's markers (trust it only from Kritik's own login). */
export const isKritikBody = (body: string | null | undefined) => /<!-- kritik:(fp=|review )/.test(body ?? '');
