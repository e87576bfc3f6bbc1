// The vocabulary of the chart's values definition: typed leaves (default, description, JSON
// schema) grouped into a tree, and the typed accessor through which constructs refer to them.
export type JsonSchema = { readonly [key: string]: unknown };

export interface Leaf<T> {
  readonly kind: 'leaf';
  readonly default: T;
  readonly description: string;
  /** JSON schema of the value (type, enum, items, ...), without its description and default. */
  readonly schema: JsonSchema;
  /** Human-readable type for the README table. */
  readonly typeName: string;
}

export interface Group<C extends Children> {
  readonly kind: 'group';
  readonly description: string;
  readonly children: C;
}

export type Node = Leaf<unknown> | Group<Children>;
export type Children = { readonly [key: string]: Node };

interface LeafOptions {
  /** Extra JSON schema keywords (enum, minimum, pattern, ...). */
  readonly schema?: JsonSchema;
}

function leaf<T>(typeName: string, schema: JsonSchema, def: T, description: string, options?: LeafOptions): Leaf<T> {
  return { kind: 'leaf', default: def, description, schema: { ...schema, ...options?.schema }, typeName };
}

export const str = (def: string, description: string, options?: LeafOptions) =>
  leaf<string>('string', { type: 'string' }, def, description, options);

export const int = (def: number, description: string, options?: LeafOptions) =>
  leaf<number>('int', { type: 'integer' }, def, description, options);

export const num = (def: number, description: string, options?: LeafOptions) =>
  leaf<number>('number', { type: 'number' }, def, description, options);

export const bool = (def: boolean, description: string) => leaf<boolean>('bool', { type: 'boolean' }, def, description);

/** A string or an integer (ids that YAML users write either way). */
export const stringOrInt = (def: string | number, description: string) =>
  leaf<string | number>('string/int', { type: ['string', 'integer'] }, def, description);

/** A map of strings (labels, annotations, nodeSelector). */
export const stringMap = (description: string, def: Record<string, string> = {}, options?: LeafOptions) =>
  leaf<Record<string, string>>(
    'map',
    { type: 'object', additionalProperties: { type: 'string' } },
    def,
    description,
    options,
  );

/** A list whose items follow `items` (a JSON schema). */
export const list = <T>(def: T[], description: string, items: JsonSchema) =>
  leaf<T[]>('list', { type: 'array', items }, def, description);

/** An object passed through to Kubernetes as is (affinity, resources, ...), checked by `schema`. */
export const object = <T extends object>(def: T, description: string, schema: JsonSchema = { type: 'object' }) =>
  leaf<T>('object', schema, def, description);

export const group = <C extends Children>(description: string, children: C): Group<C> => ({
  kind: 'group',
  description,
  children,
});

/** The default values of a definition, as a plain object. */
export function defaultsOf(node: Node): unknown {
  if (node.kind === 'leaf') return structuredClone(node.default);
  return Object.fromEntries(Object.entries(node.children).map(([key, child]) => [key, defaultsOf(child)]));
}

/** Every leaf with its dotted path, in definition order. */
export function leavesOf(node: Node, path: string[] = []): { path: string[]; leaf: Leaf<unknown> }[] {
  if (node.kind === 'leaf') return [{ path, leaf: node }];
  return Object.entries(node.children).flatMap(([key, child]) => leavesOf(child, [...path, key]));
}

/**
 * A reference to one value. `String(ref)` is its Helm path (`.Values.backend.replicaCount`), so
 * it reads naturally inside conditions: `if not ${values.backend.autoscaling.enabled}`.
 */
export class ValueRef<T> {
  declare readonly __type: T;
  constructor(
    readonly path: readonly string[],
    readonly leaf: Leaf<T>,
  ) {}

  /** `.Values.a.b`; keys that are not Go identifiers use `index`. */
  toString(): string {
    return helmPath(this.path);
  }
}

export class GroupRef {
  constructor(readonly path: readonly string[]) {}
  toString(): string {
    return helmPath(this.path);
  }
}

function helmPath(path: readonly string[]): string {
  if (path.every((key) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))) return ['.Values', ...path].join('.');
  return `(index .Values ${path.map((key) => JSON.stringify(key)).join(' ')})`;
}

export type Accessor<N> =
  N extends Leaf<infer T>
    ? ValueRef<T>
    : N extends Group<infer C>
      ? GroupRef & { [K in keyof C]: Accessor<C[K]> }
      : never;

/** Builds the typed accessor of a definition: `values.backend.replicaCount` is a ValueRef<number>. */
export function accessorOf<N extends Node>(node: N, path: string[] = []): Accessor<N> {
  if (node.kind === 'leaf') return new ValueRef(path, node) as Accessor<N>;
  const ref = new GroupRef(path) as GroupRef & Record<string, unknown>;
  for (const [key, child] of Object.entries(node.children)) {
    if (key in ref) throw new Error(`value key '${key}' at ${helmPath(path)} clashes with the accessor`);
    ref[key] = accessorOf(child, [...path, key]);
  }
  return ref as Accessor<N>;
}
