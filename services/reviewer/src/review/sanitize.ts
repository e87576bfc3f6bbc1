// The one way untrusted text (from the model or the pull request) reaches posted Markdown. It
// must not ping anyone, render HTML, load an image or forge Kritik's markers, wherever the text
// lands: prose, a code span, a code block, a table. Telling those apart means parsing Markdown
// exactly as GitHub does, and a parser that disagrees once is a bypass; so the neutralising is
// done with a zero-width space that is harmless in every context instead (ADR 0005).

const MAX_BODY = 6_000;
const MAX_TITLE = 140;
const ZWSP = '\u200b';

/**
 * Breaks each construct that acts on a reader, in any Markdown context, without changing how
 * the text reads: a zero-width space after `@` (mentions of users and teams), after `<` (HTML,
 * comments, autolinks), after `&` (entities that would spell `@` or `<` back), and between `!`
 * and `[` (inline and reference-style images).
 */
export function neutralise(text: string): string {
  return text
    .replace(/@(?=[A-Za-z0-9_])/g, `@${ZWSP}`)
    .replace(/<(?=[A-Za-z/!?$])/g, `<${ZWSP}`)
    .replace(/&(?=#|[A-Za-z0-9]+;)/g, `&${ZWSP}`)
    .replace(/!(?=\[)/g, `!${ZWSP}`);
}

/** Sanitises one Markdown text written by the model; Markdown formatting is kept. */
export function sanitizeMarkdown(text: string, max = MAX_BODY): string {
  const lines = neutralise(text.replace(/\r\n?/g, '\n')).split('\n');
  // Cosmetic only (safety does not depend on it): close a fence the text left open, so the rest
  // of the comment is not shown as code.
  let fence: string | null = null;
  for (const line of lines) {
    const marks = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (!marks) continue;
    if (fence === null) fence = marks;
    else if (marks[0] === fence[0] && marks.length >= fence.length && line.trim() === marks) fence = null;
  }
  if (fence !== null) lines.push(fence);
  return truncate(lines.join('\n'), max);
}

/** A one-line title. */
export function sanitizeTitle(text: string): string {
  return truncate(neutralise(text.replace(/\s+/g, ' ').trim()), MAX_TITLE);
}

/**
 * Untrusted text (a file name, a config key) shown as code: one line, neutralised, in a code
 * span whose backtick run is longer than any inside it, so nothing in it can end the span.
 */
export function inlineCode(text: string): string {
  const flat = neutralise(text.replace(/[\r\n]+/g, ' '));
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat === '' ? ' ' : '';
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A `suggestion` block whose fence no backtick run inside the code can close early. */
export function suggestionBlock(code: string): string {
  const longest = Math.max(0, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const body = code.replace(/\r\n?/g, '\n').replace(/\n$/, '');
  return `${fence}suggestion\n${body}\n${fence}`;
}
