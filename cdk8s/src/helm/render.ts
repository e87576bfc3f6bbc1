// Turns synthesized Kubernetes objects holding placeholder tokens into Helm template text:
// YAML is printed by the `yaml` library, then each token line is replaced by its Helm form.
import { stringify } from 'yaml';
import { type BlockSite, TOKEN_PATTERN, tokenEntry } from './tokens.js';

const YAML_OPTIONS = {
  lineWidth: 0,
  minContentWidth: 0,
  // The same object (e.g. a labels map) used twice must be printed twice, not as an alias.
  aliasDuplicateObjects: false,
  // Helm parses rendered manifests as YAML 1.1: strings like `on` or `yes` need quotes.
  version: '1.1',
} as const;

// `key: TOKEN` or `- key: TOKEN`, the key plain or quoted.
const MAP_VALUE = /^( *)(- )?("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#][^:#]*?): (__kritik_block_[0-9a-f]{12}__)$/;
// `- TOKEN`
const LIST_ITEM = /^( *)- (__kritik_block_[0-9a-f]{12}__)$/;
// A scalar that YAML printed quoted: a token inside it would need its quotes escaped.
const QUOTED_TOKEN = /["'][^"']*__kritik_[a-z]+_[0-9a-f]{12}__/;

function parseKey(text: string): string {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) return text.slice(1, -1).replaceAll("''", "'");
  return text;
}

/** Renders `value` as YAML lines indented by `column`, with every token replaced. */
export function renderValue(value: unknown, column = 0): string[] {
  const text = stringify(value, YAML_OPTIONS).replace(/\n$/, '');
  const pad = ' '.repeat(column);
  return replaceTokens(text.split('\n').map((line) => pad + line));
}

/** Renders one manifest or a multi-line value; the result ends without a newline. */
export function renderYaml(value: unknown): string {
  return renderValue(value).join('\n');
}

function renderBlock(token: string, site: BlockSite): string[] {
  const entry = tokenEntry(token);
  if (entry.kind !== 'block') throw new Error(`token ${token} is inline but stands alone as a block`);
  return entry.render(site, renderValue);
}

export function replaceTokens(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const map = MAP_VALUE.exec(line);
    if (map) {
      const [, indent = '', dash = '', keyText = '', token = ''] = map;
      out.push(
        ...renderBlock(token, {
          head: `${indent}${dash}${keyText}:`,
          key: parseKey(keyText),
          column: indent.length + dash.length,
          dashed: dash !== '',
        }),
      );
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const [, indent = '', token = ''] = item;
      out.push(...renderBlock(token, { head: `${indent}-`, column: indent.length, dashed: true }));
      continue;
    }
    if (QUOTED_TOKEN.test(line)) {
      throw new Error(`a placeholder token ended up inside a quoted YAML scalar, which Helm cannot fill: ${line}`);
    }
    out.push(
      line.replace(TOKEN_PATTERN, (token) => {
        const entry = tokenEntry(token);
        if (entry.kind !== 'inline') throw new Error(`block token ${token} is not alone on its line: ${line}`);
        return entry.text;
      }),
    );
  }
  return out;
}
