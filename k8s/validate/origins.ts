// Knows which file set which key: walks a kustomization tree in the order kustomize applies it
// (resources, then patches) and records, per object and key path, the last file that wrote it,
// so an error found in the built output can name the file and key a person has to change.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A key path inside one object, e.g. ['spec', 'values', 'worker', 'replicas']. */
export type KeyPath = readonly (string | number)[];

export interface Origin {
  /** File that set the key, relative to the working directory. */
  readonly file: string;
  readonly key: KeyPath;
}

type Json = unknown;

interface Entry {
  readonly object: string;
  readonly key: KeyPath;
  readonly file: string;
  /** The value set, for scalars only. */
  readonly value?: Json;
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((name) => join(dir, name)).find((file) => existsSync(file));
}

/** `Kind/name` of a manifest, the identity patches are matched by. */
export function objectId(kind: unknown, name: unknown): string {
  return `${String(kind ?? '*')}/${String(name ?? '*')}`;
}

/** Renders a key path as `spec.values.worker.replicas` (indices as `[0]`). */
export function formatKey(key: KeyPath): string {
  return key.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part),
    '',
  );
}

/** JSON pointer (`/spec/values/a~1b`) to a key path. */
export function pointerToKey(pointer: string): KeyPath {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

export function readYamlDocuments(file: string): Json[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: Json[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The index of who set what, for one kustomization root (an overlay or a cluster entry point). */
export class OriginIndex {
  private readonly entries: Entry[] = [];
  /** Every file the tree reads, in application order. */
  readonly files: string[] = [];

  private constructor(private readonly cwd: string) {}

  static build(root: string, cwd = process.cwd()): OriginIndex {
    const index = new OriginIndex(cwd);
    index.walk(resolve(root), new Set());
    return index;
  }

  /**
   * Where `key` of `object` (`Kind/name`) came from: the latest file that set it, a key above
   * it (the key is new there) or a key below it (the key is a subtree several files shaped).
   */
  find(object: string, key: KeyPath): Origin | undefined {
    const kind = object.split('/')[0];
    let best: { entry: Entry; depth: number; order: number } | undefined;
    this.entries.forEach((entry, order) => {
      if (entry.object !== object && entry.object !== `${kind}/*`) return;
      const shared = Math.min(entry.key.length, key.length);
      for (let i = 0; i < shared; i++) if (entry.key[i] !== key[i]) return;
      // Deeper matches are more specific; among equals the later file wins, as in kustomize.
      if (!best || shared > best.depth || (shared === best.depth && order > best.order)) {
        best = { entry, depth: shared, order };
      }
    });
    if (!best) return undefined;
    return { file: best.entry.file, key };
  }

  /** Scalar keys set under `prefix` of `object`, each with the file that set it last, oldest write first. */
  leaves(object: string, prefix: KeyPath): Entry[] {
    const latest = new Map<string, Entry>();
    for (const entry of this.entries) {
      if (entry.object !== object || entry.value === undefined) continue;
      if (!prefix.every((part, i) => entry.key[i] === part)) continue;
      const id = JSON.stringify(entry.key);
      latest.delete(id);
      latest.set(id, entry);
    }
    return [...latest.values()];
  }

  private rel(file: string): string {
    return relative(this.cwd, file) || file;
  }

  private record(object: string, key: KeyPath, value: Json, file: string): void {
    const scalar = isObject(value) || Array.isArray(value) ? undefined : value;
    this.entries.push({ object, key, file: this.rel(file), ...(scalar === undefined ? {} : { value: scalar }) });
    if (isObject(value)) {
      for (const [name, child] of Object.entries(value)) this.record(object, [...key, name], child, file);
    } else if (Array.isArray(value)) {
      value.forEach((child, i) => {
        this.record(object, [...key, i], child, file);
      });
    }
  }

  private recordManifest(doc: Json, file: string, target?: Record<string, Json>): void {
    if (!isObject(doc)) return;
    const metadata = isObject(doc.metadata) ? doc.metadata : {};
    const object = objectId(doc.kind ?? target?.kind, metadata.name ?? target?.name);
    for (const [name, value] of Object.entries(doc)) {
      if (name !== 'apiVersion' && name !== 'kind') this.record(object, [name], value, file);
    }
  }

  private recordJsonPatch(ops: Json, file: string, target: Record<string, Json>): void {
    if (!Array.isArray(ops)) return;
    const object = objectId(target.kind, target.name);
    for (const op of ops) {
      if (!isObject(op) || typeof op.path !== 'string') continue;
      this.record(object, pointerToKey(op.path), op.op === 'remove' ? null : op.value, file);
    }
  }

  private recordPatch(patch: Json, dir: string, file: string): void {
    const spec = typeof patch === 'string' ? { path: patch } : patch;
    if (!isObject(spec)) return;
    const target = isObject(spec.target) ? spec.target : undefined;
    let source = file;
    let docs: Json[];
    if (typeof spec.path === 'string') {
      source = join(dir, spec.path);
      this.files.push(this.rel(source));
      docs = readYamlDocuments(source);
    } else if (typeof spec.patch === 'string') {
      docs = parseAllDocuments(spec.patch).map((doc) => doc.toJS());
    } else {
      return;
    }
    for (const doc of docs) {
      if (Array.isArray(doc) && target) this.recordJsonPatch(doc, source, target);
      else this.recordManifest(doc, source, target);
    }
  }

  private walk(dir: string, seen: Set<string>): void {
    if (seen.has(dir)) return;
    seen.add(dir);
    const file = kustomizationFile(dir);
    if (!file) throw new Error(`${this.rel(dir)}: no kustomization.yaml`);
    this.files.push(this.rel(file));
    const [kustomization = {}] = readYamlDocuments(file);
    if (!isObject(kustomization)) return;
    const list = (name: string): Json[] => (Array.isArray(kustomization[name]) ? (kustomization[name] as Json[]) : []);
    for (const resource of [...list('bases'), ...list('resources'), ...list('components')]) {
      if (typeof resource !== 'string' || /^[a-z]+:\/\//.test(resource)) continue;
      const path = join(dir, resource);
      if (existsSync(path) && statSync(path).isDirectory()) {
        this.walk(path, seen);
      } else if (existsSync(path)) {
        this.files.push(this.rel(path));
        for (const doc of readYamlDocuments(path)) this.recordManifest(doc, path);
      }
    }
    for (const patch of [...list('patchesStrategicMerge'), ...list('patches')]) this.recordPatch(patch, dir, file);
    for (const patch of list('patchesJson6902')) this.recordPatch(patch, dir, file);
  }
}
