// Placeholder tokens: constructs put them where a Helm expression belongs (a number, a string,
// a whole block), cdk8s synthesizes them as plain strings, and the renderer swaps them back.
import { createHash } from 'node:crypto';

/** Replaced inside a scalar: `replicas: {{ .Values.x }}`, `name: {{ include "kritik.fullname" . }}-backend`. */
export interface InlineToken {
  readonly kind: 'inline';
  readonly text: string;
}

/** Where a block token sits in the printed YAML. */
export interface BlockSite {
  /** The line up to the token: `    key:`, `    - key:` or `    -` for a list item. */
  readonly head: string;
  /** The key, unquoted; absent for a list item. */
  readonly key?: string;
  /** Column of the key, or of the dash for a list item. */
  readonly column: number;
  /** True when the line starts a list item (`- key: TOKEN` or `- TOKEN`). */
  readonly dashed: boolean;
}

/** Replaces the whole `key: TOKEN` (or `- TOKEN`) line with rendered lines. */
export interface BlockToken {
  readonly kind: 'block';
  readonly render: (site: BlockSite, renderValue: (value: unknown, column: number) => string[]) => string[];
}

export type TokenEntry = InlineToken | BlockToken;

const registry = new Map<string, TokenEntry>();

export const TOKEN_PATTERN = /__kritik_[a-z]+_[0-9a-f]{12}__/g;

/** Tokens are named after their content, so the same expression always gives the same token. */
function register(kind: string, identity: string, entry: TokenEntry): string {
  const token = `__kritik_${kind}_${createHash('sha256').update(identity).digest('hex').slice(0, 12)}__`;
  registry.set(token, entry);
  return token;
}

export function inlineToken(text: string): string {
  return register('inline', text, { kind: 'inline', text });
}

export function blockToken(identity: string, render: BlockToken['render']): string {
  return register('block', identity, { kind: 'block', render });
}

export function tokenEntry(token: string): TokenEntry {
  const entry = registry.get(token);
  if (!entry) throw new Error(`unknown placeholder token ${token}`);
  return entry;
}

/**
 * Replaces inline tokens in a synthesized object by their Helm text and names block tokens
 * `<block>`: for assertions in tests, which read better than hashes.
 */
export function describeTokens(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(TOKEN_PATTERN, (token) => {
      const entry = tokenEntry(token);
      return entry.kind === 'inline' ? entry.text : `<block ${token}>`;
    });
  }
  if (Array.isArray(value)) return value.map(describeTokens);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, describeTokens(inner)]));
  }
  return value;
}
