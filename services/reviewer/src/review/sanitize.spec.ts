// What posted text does is decided by how a Markdown parser reads it, so these specs read the
// output with CommonMark's reference parser (commonmark.js) and look for what must never be there:
// raw HTML, images, @-mentions, Kritik markers, wherever the hostile text landed.
import { HtmlRenderer, type Node, Parser } from 'commonmark';
import fc from 'fast-check';
import { commentBody } from './findings.js';
import { extractFingerprints, parseReviewMarker } from './fingerprint.js';
import { inlineCode, neutralise, sanitizeMarkdown, sanitizeTitle, suggestionBlock } from './sanitize.js';
import { buildSummary } from './summary.js';

const MENTION = /(^|[^A-Za-z0-9_`])@[A-Za-z0-9]/;
/** The HTML Kritik itself writes (its markers, the footer's <sub>), taken out before looking. */
const withoutOwnHtml = (markdown: string) => markdown.replace(/<!-- kritik:[^>]*-->|<\/?sub>/g, '');

/** Everything a reader's GitHub would act on in `markdown`, as CommonMark parses it. */
function dangers(markdown: string, allowSuggestion = false): string[] {
  const found: string[] = [];
  const walker = new Parser().parse(markdown).walker();
  for (let step = walker.next(); step; step = walker.next()) {
    if (!step.entering) continue;
    const node: Node = step.node;
    if (node.type === 'html_inline' || node.type === 'html_block') found.push(`html: ${node.literal}`);
    if (node.type === 'image') found.push(`image: ${node.destination}`);
    if (node.type === 'code_block' && allowSuggestion && node.info === 'suggestion') continue;
    if (node.literal && MENTION.test(node.literal)) found.push(`mention in ${node.type}: ${node.literal}`);
  }
  const html = new HtmlRenderer().render(new Parser().parse(markdown));
  if (/<img|<script|<!--/i.test(html.replace(/&lt;/g, ''))) found.push(`rendered: ${html}`);
  return found;
}

const hostile = fc.stringMatching(/^[@<>![\]()`~&#;:/\\ \n\ta-z0-9*_|-]{0,80}$/);
const HOSTILE_EXAMPLES = [
  'a` @octocat <img src=x> `.png',
  '``a` @octocat',
  '```x`\n@octocat <img src=x onerror=alert(1)>',
  '![x][r]\n\n[r]: https://evil.example/p.png',
  '&#64;octocat &lt;img src=x&gt; &#x3C;script>',
  '- item\n\n  ```\n@octocat\n```',
  '\t```\n@octocat',
  '> ```\n@octocat\n<!-- kritik:fp=0123456789abcdef -->',
  '<https://evil.example> <!-- kritik:review head=ffffffff -->',
  '# a `b @octocat\nc` d',
];

describe(sanitizeMarkdown.name, () => {
  it.each(HOSTILE_EXAMPLES)('leaves nothing that acts on a reader in %j', (text) => {
    expect(dangers(sanitizeMarkdown(text))).toEqual([]);
  });

  it('leaves nothing that acts on a reader in any hostile text', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        expect(dangers(sanitizeMarkdown(text))).toEqual([]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps the text as it reads: Markdown formatting and every visible character', () => {
    const text = '**Null** check: use `a < b && @decorator` and [docs](https://x.example/@a)\n```ts\n@Inject()\n```';

    const sut = sanitizeMarkdown(text);

    expect(sut.replaceAll('\u200b', '')).toBe(text);
    expect(new Parser().parse(sut).firstChild?.firstChild?.type).toBe('strong');
  });

  it('closes a fence the text left open', () => {
    expect(sanitizeMarkdown('```\ncode')).toBe('```\ncode\n```');
  });

  it('caps the length', () => {
    expect(sanitizeMarkdown('x'.repeat(10_000), 100)).toHaveLength(100);
  });
});

describe(sanitizeTitle.name, () => {
  it('makes one line without pings', () => {
    expect(sanitizeTitle('Null\n deref  @alice')).toBe('Null deref @\u200balice');
  });
});

describe(inlineCode.name, () => {
  it('shows any file name as one code span with nothing acting inside it', () => {
    fc.assert(
      fc.property(hostile, (name) => {
        const markdown = `- ${inlineCode(name)} — not reviewed`;
        const item = new Parser().parse(markdown).firstChild?.firstChild?.firstChild;
        expect(item?.firstChild?.type).toBe('code');
        expect(item?.firstChild?.literal?.replaceAll('\u200b', '').trim()).toBe(name.replace(/[\r\n]+/g, ' ').trim());
        expect(dangers(markdown)).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe(neutralise.name, () => {
  it('breaks entities that would spell a mention or a tag back', () => {
    expect(dangers(neutralise('&#64;octocat &#x3C;img src=x&#x3E;'))).toEqual([]);
  });
});

describe('posted bodies', () => {
  it('a comment of hostile title, body and suggestion has no danger outside the suggestion', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (title, body, suggestion) => {
        const markdown = commentBody({
          path: 'a.ts',
          line: 1,
          severity: 'major',
          title: sanitizeTitle(title),
          body: sanitizeMarkdown(body),
          suggestion,
          source: 'model',
          fingerprint: '0123456789abcdef',
          inline: true,
        });
        expect(dangers(withoutOwnHtml(markdown), true)).toEqual([]);
        expect(extractFingerprints(markdown)).toEqual(['0123456789abcdef']);
      }),
      { numRuns: 500 },
    );
  });

  it('a summary of hostile paths, titles and notes has only its own markers', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (path, title, note) => {
        const markdown = buildSummary({
          summaries: [note],
          findings: [
            {
              path,
              line: 3,
              severity: 'minor',
              title: sanitizeTitle(title),
              body: sanitizeMarkdown(note),
              source: 'model',
              fingerprint: 'fedcba9876543210',
              inline: false,
              summaryReason: 'line 3 is outside the diff',
            },
          ],
          skipped: [{ path, reason: 'binary file' }],
          configIssues: [{ line: 1, field: path, message: note }],
          notes: [note],
          filesReviewed: 1,
          usage: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 },
          costUsd: 0,
          model: null,
          markers: ['<!-- kritik:review head=cccccccc -->'],
        });
        expect(dangers(withoutOwnHtml(markdown))).toEqual([]);
        expect(extractFingerprints(markdown)).toEqual(['fedcba9876543210']);
        expect(parseReviewMarker(markdown)?.head).toBe('cccccccc');
      }),
      { numRuns: 500 },
    );
  });
});

describe(suggestionBlock.name, () => {
  it('uses a fence longer than any backtick run in the code', () => {
    const sut = suggestionBlock('const s = ```x```;\n');

    expect(sut).toBe('````suggestion\nconst s = ```x```;\n````');
  });
});
