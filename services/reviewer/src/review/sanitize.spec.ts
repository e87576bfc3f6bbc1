import { extractFingerprints } from './fingerprint.js';
import { sanitizeMarkdown, sanitizeTitle, suggestionBlock } from './sanitize.js';

describe(sanitizeMarkdown.name, () => {
  it('turns @-mentions of users and teams into code so nobody is pinged', () => {
    const sut = sanitizeMarkdown('Ask @octocat or @acme/security-team, mail a@b.com');

    expect(sut).toBe('Ask `@octocat` or `@acme/security-team`, mail a@b.com');
  });

  it('escapes raw HTML, including comments that could forge Kritik markers', () => {
    const sut = sanitizeMarkdown('<img src=x onerror=alert(1)> <!-- kritik:fp=0123456789abcdef -->');

    expect(sut).not.toMatch(/<[a-z!]/i);
    expect(extractFingerprints(sut)).toEqual([]);
  });

  it('turns images into links so no reader loads a remote URL', () => {
    expect(sanitizeMarkdown('see ![x](https://evil.example/p.png)')).toBe('see [x](https://evil.example/p.png)');
  });

  it('leaves inline code and fenced code blocks exactly as written', () => {
    const text = 'Use `a < b && @decorator` here:\n```ts\nif (a < b) { @Inject() }\n```\nthen @bob';

    const sut = sanitizeMarkdown(text);

    expect(sut).toBe('Use `a < b && @decorator` here:\n```ts\nif (a < b) { @Inject() }\n```\nthen `@bob`');
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
    expect(sanitizeTitle('Null\n deref  @alice')).toBe('Null deref `@alice`');
  });
});

describe(suggestionBlock.name, () => {
  it('uses a fence longer than any backtick run in the code', () => {
    const sut = suggestionBlock('const s = ```x```;\n');

    expect(sut).toBe('````suggestion\nconst s = ```x```;\n````');
  });
});
