// Helm expressions for constructs: each helper returns a placeholder typed for the field it
// fills, so constructs stay typed while the chart reads its values at install time.
import type { GroupRef, ValueRef } from '../values/dsl.js';
import { type BlockSite, blockToken, inlineToken } from './tokens.js';

/**
 * A placeholder for a block (an object, a list, a conditional key). It is typed `never` so it
 * fits any typed field of a Kubernetes object; the renderer replaces it by Helm text.
 */
export type Block = never;

type Expr = string | ValueRef<unknown> | GroupRef;

const sp = (n: number) => ' '.repeat(n);
const yamlKey = (key: string) => (/^[A-Za-z0-9_./-]+$/.test(key) ? key : JSON.stringify(key));

function needKey(site: BlockSite, what: string): string {
  if (site.key === undefined)
    throw new Error(`${what} must be the value of a map key, found a list item: ${site.head}`);
  return site.key;
}

function needUndashed(site: BlockSite, what: string): string {
  const key = needKey(site, what);
  if (site.dashed) throw new Error(`${what} cannot be the first key of a list item: ${site.head}`);
  return key;
}

function needItem(site: BlockSite, what: string): void {
  if (site.key !== undefined) throw new Error(`${what} must be a list item, found key ${site.key}`);
}

/** `{{ text }}` inside a scalar, e.g. `{{ include "kritik.fullname" . }}`. */
export function expr(text: Expr): string {
  return inlineToken(`{{ ${text} }}`);
}

/** The value of a leaf: numbers and booleans unquoted, strings quoted. */
export function value(ref: ValueRef<number>): number;
export function value(ref: ValueRef<boolean>): boolean;
export function value(ref: ValueRef<string>): string;
export function value(ref: ValueRef<number | boolean | string>): number | boolean | string {
  const type = ref.leaf.schema.type;
  if (type === 'string') return inlineToken(`{{ ${ref} | quote }}`);
  if (type === 'integer' || type === 'number' || type === 'boolean') return inlineToken(`{{ ${ref} }}`);
  throw new Error(`${ref} is a ${String(type)}: use yaml() for objects and lists`);
}

/** `{{ include "name" . }}` unquoted, for names and other values known to be plain. */
export function include(name: string, context = '.'): string {
  return inlineToken(`{{ include ${JSON.stringify(name)} ${context} }}`);
}

/** An object or list value: `key: {{- toYaml <expr> | nindent N }}`. */
export function yaml(source: Expr): Block {
  return blockToken(`yaml ${source}`, (site) => {
    needKey(site, `yaml(${source})`);
    return [`${site.head} {{- toYaml ${source} | nindent ${site.column + 2} }}`];
  }) as Block;
}

/** A key present only when the value is not empty: `{{- with x }} key: {{- toYaml . }} {{- end }}`. */
export function optionalYaml(source: Expr): Block {
  return blockToken(`optionalYaml ${source}`, (site) => {
    const key = needUndashed(site, `optionalYaml(${source})`);
    const c = site.column;
    return [
      `${sp(c)}{{- with ${source} }}`,
      `${sp(c)}${yamlKey(key)}: {{- toYaml . | nindent ${c + 2} }}`,
      `${sp(c)}{{- end }}`,
    ];
  }) as Block;
}

/** A key present only when `condition` holds; `inner` is its value (it may hold tokens too). */
export function when(condition: Expr, inner: unknown): Block {
  return blockToken(`when ${condition} ${JSON.stringify(inner)}`, (site, renderValue) => {
    const key = needUndashed(site, `when(${condition})`);
    const c = site.column;
    return [`${sp(c)}{{- if ${condition} }}`, ...renderValue({ [key]: inner }, c), `${sp(c)}{{- end }}`];
  }) as Block;
}

/** A list item present only when `condition` holds. */
export function whenItem<T>(condition: Expr, item: T): T {
  return blockToken(`whenItem ${condition} ${JSON.stringify(item)}`, (site, renderValue) => {
    needItem(site, `whenItem(${condition})`);
    const c = site.column;
    return [`${sp(c)}{{- if ${condition} }}`, ...renderValue([item], c), `${sp(c)}{{- end }}`];
  }) as unknown as T;
}

/**
 * Entries of a map value merged into a map: `{ ...fixed, ...merge(values.commonLabels) }`. The
 * entry's key is a placeholder that the block ignores.
 */
export function merge(source: Expr): Record<string, string> {
  const token = blockToken(`merge ${source}`, (site) => {
    const c = site.column;
    if (site.dashed) throw new Error(`merge(${source}) cannot be the first key of a list item: ${site.head}`);
    return [`${sp(c)}{{- with ${source} }}`, `${sp(c)}{{- toYaml . | nindent ${c} }}`, `${sp(c)}{{- end }}`];
  });
  return { [`__merge_${token.slice(-14, -2)}`]: token };
}

/** List items spliced in from a Helm pipeline that prints YAML list items (or nothing). */
export function splice<T>(pipeline: string): T {
  return blockToken(`splice ${pipeline}`, (site) => {
    needItem(site, `splice(${pipeline})`);
    return [`${sp(site.column)}{{- ${pipeline} | nindent ${site.column} }}`];
  }) as unknown as T;
}

/** The items of a list value, appended after the other items (nothing when it is empty). */
export function spliceYaml<T>(source: Expr): T {
  return blockToken(`spliceYaml ${source}`, (site) => {
    needItem(site, `spliceYaml(${source})`);
    const c = site.column;
    return [`${sp(c)}{{- with ${source} }}`, `${sp(c)}{{- toYaml . | nindent ${c} }}`, `${sp(c)}{{- end }}`];
  }) as unknown as T;
}

/** A multi-line string from a Helm pipeline, as a literal block: `key: |-`. */
export function literal(pipeline: string): string {
  return blockToken(`literal ${pipeline}`, (site) => {
    needKey(site, `literal(${pipeline})`);
    return [`${site.head} |-`, `${sp(site.column + 2)}{{- ${pipeline} | nindent ${site.column + 2} }}`];
  });
}

/** Hand-written Helm lines for what YAML cannot say (loops); `render` gets the key's column. */
export function lines(identity: string, render: (site: BlockSite) => string[]): Block {
  return blockToken(`lines ${identity}`, render) as Block;
}
