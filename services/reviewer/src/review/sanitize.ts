// Makes model-written text safe to post: no @-pings of users or teams, no raw HTML (which could
// also forge Kritik's hidden markers), no auto-loading images. Code spans and blocks stay as written.

const MAX_BODY = 6_000;
const MAX_TITLE = 140;

/** Sanitises one Markdown text written by the model. */
export function sanitizeMarkdown(text: string, max = MAX_BODY): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === null && open) {
      fence = open[1]!;
      out.push(line);
    } else if (fence !== null) {
      if (line.trim().startsWith(fence[0]!.repeat(fence.length)) && line.trim().replace(/[`~]/g, '') === '')
        fence = null;
      out.push(line);
    } else {
      out.push(sanitizeProse(line));
    }
  }
  if (fence !== null) out.push(fence);
  return truncate(out.join('\n'), max);
}

/** A one-line title. */
export function sanitizeTitle(text: string): string {
  return truncate(sanitizeProse(text.replace(/\s+/g, ' ').trim()), MAX_TITLE);
}

/** Prose outside inline code: the only place Markdown pings, renders HTML and loads images. */
function sanitizeProse(line: string): string {
  return line
    .split(/(`+[^`]*`+)/)
    .map((part, i) => (i % 2 === 1 ? part : neutralise(part)))
    .join('');
}

function neutralise(text: string): string {
  return (
    text
      .replace(/&(?=[#A-Za-z0-9]+;)/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      // ![alt](url) would make every reader's browser fetch url; a plain link does not.
      .replace(/!\[([^\]]*)\]\(/g, '[$1](')
      .replace(/(^|[^A-Za-z0-9_`])@([A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9_.-]+)?)/g, '$1`@$2`')
  );
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
