// Validates the GitOps tree: every kustomization builds, every Flux object meets the Flux
// schemas, cluster entry points wire existing paths and dependencies, and each HelmRelease's
// values render with the repository's chart and pass a server-side dry-run on a real API server.
// Every problem names the file and key to change.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { POLICY_KIND, policyProblems, reviewPolicySpecSchema } from '@kritik/core';
import { parse } from 'yaml';
import { hasKnownSchema, isFluxObject, type Manifest, validateCustomResources } from './custom-resources.js';
import type { ServerSideApply } from './dry-run.js';
import { formatKey, type KeyPath, kustomizationFile, OriginIndex, objectId, pointerToKey } from './origins.js';
import {
  chartVersion,
  type HelmReleaseTarget,
  helmTemplate,
  kustomizeBuild,
  releaseTarget,
  ToolError,
} from './render.js';

export interface Problem {
  readonly file: string;
  readonly key: string;
  readonly message: string;
}

export const formatProblem = (p: Problem) => [p.file, p.key, p.message].filter(Boolean).join(': ');

/** What one kustomization root renders to, ready for the dry-run. */
export interface Rendered {
  readonly root: string;
  readonly index: OriginIndex;
  /** The HelmRelease (`Kind/name` and what it installs) whose chart produced `objects`; none for plain manifests. */
  readonly release?: { readonly id: string; readonly target: HelmReleaseTarget };
  readonly namespace: string;
  readonly objects: Manifest[];
}

const nameOf = (m: Manifest) => String(m.metadata?.name ?? '');

/** Kustomization roots validated by default: every overlay and every cluster entry point. */
export function defaultRoots(repo: string): string[] {
  return ['k8s/overlays', 'k8s/clusters'].flatMap((parent) => {
    const dir = join(repo, parent);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && kustomizationFile(join(dir, entry.name)))
      .map((entry) => join(parent, entry.name))
      .sort();
  });
}

/** Each key named in helm's values-schema errors (`- at '/worker/replicas': ...`) with its line. */
export function helmSchemaErrors(output: string): { key: KeyPath; line: string }[] {
  const errors: { key: KeyPath; line: string }[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.replace(/^\s*-\s*/, '').trim();
    const at = /at '([^']*)'/.exec(line);
    if (!at) continue;
    const base = pointerToKey(at[1] ?? '');
    const names = /(?:additional|missing) propert(?:y|ies) ((?:'[^']+'(?:, )?)+)/.exec(line)?.[1];
    if (names) for (const name of names.matchAll(/'([^']+)'/g)) errors.push({ key: [...base, name[1] ?? ''], line });
    else errors.push({ key: base, line });
  }
  return errors;
}

/** Scalars anywhere in a manifest, as strings. */
function scalarsOf(value: unknown, out = new Set<string>()): Set<string> {
  if (value !== null && typeof value === 'object') for (const child of Object.values(value)) scalarsOf(child, out);
  else out.add(String(value));
  return out;
}

/** `values` without the key at `key`. */
function withoutKey(values: Record<string, unknown>, key: KeyPath): Record<string, unknown> {
  const copy = structuredClone(values);
  const parent = key.slice(0, -1).reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], copy);
  if (parent && typeof parent === 'object') delete (parent as Record<string | number, unknown>)[key.at(-1) ?? ''];
  return copy;
}

/**
 * Creates the CRDs of the repository's chart (charts/kritik/crds) on the API server and waits
 * until each is served; returns their names. Helm installs them the same way, before templates.
 */
export async function installChartCrds(api: ServerSideApply, repo: string): Promise<string[]> {
  const dir = join(repo, 'charts', 'kritik', 'crds');
  if (!existsSync(dir)) return [];
  const names: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as Manifest;
    const result = await api.apply(crd, { dryRun: false, defaultNamespace: 'default' });
    if (!result.ok) throw new Error(`charts/kritik/crds/${file}: ${result.messages.join('; ')}`);
    names.push(nameOf(crd));
  }
  for (const name of names) await api.waitEstablished(name, 30_000);
  return names;
}

/**
 * The field an API server's validation message names first (`... is invalid: spec.locked[0]:
 * Unsupported value`), as a key path; none when it names none.
 */
export function fieldInMessage(message: string): KeyPath {
  const field = /is invalid: ([A-Za-z][\w.[\]]*):/.exec(message)?.[1];
  if (!field) return [];
  return [...field.matchAll(/\[(\d+)\]|([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[2]!));
}

/** What the worker would refuse in a ReviewPolicy that its schema cannot see (bad globs...). */
function policyProblemsOf(manifest: Manifest): { key: KeyPath; message: string }[] {
  const parsed = reviewPolicySpecSchema.safeParse(manifest.spec);
  // A spec the schema refuses is the API server's to report, with its own words.
  if (!parsed.success) return [];
  return policyProblems(parsed.data).map((message) => ({ key: ['spec'], message }));
}

export class GitOpsValidator {
  readonly problems: Problem[] = [];
  readonly rendered: Rendered[] = [];
  /** Custom resources neither the API server nor a known schema can check. */
  readonly unchecked = new Set<string>();
  /** The full `kustomize build` output of every root. */
  readonly built: { root: string; objects: Manifest[] }[] = [];
  private readonly done = new Set<string>();

  constructor(private readonly repo: string) {}

  /** Every kustomization root validated so far, entry points' paths included. */
  get checkedRoots(): string[] {
    return [...this.done];
  }

  private rel(path: string): string {
    return relative(this.repo, resolve(this.repo, path)) || '.';
  }

  private report(file: string, key: KeyPath | string, message: string): void {
    this.problems.push({ file, key: typeof key === 'string' ? key : formatKey(key), message });
  }

  /** Reports a problem at `key` of `object`, naming the file that set that key (or `fallback`). */
  private reportAt(index: OriginIndex, object: string, key: KeyPath, message: string, fallback: string): void {
    const origin = index.find(object, key);
    this.report(origin?.file ?? fallback, origin?.key ?? key, message);
  }

  /** Validates one kustomization root (and, for cluster entry points, the paths they deploy). */
  validateRoot(root: string): void {
    const rootRel = this.rel(root);
    if (this.done.has(rootRel)) return;
    this.done.add(rootRel);
    const kustomization = kustomizationFile(join(this.repo, rootRel));
    const rootFile = kustomization ? this.rel(kustomization) : rootRel;
    let index: OriginIndex;
    let manifests: Manifest[];
    try {
      index = OriginIndex.build(join(this.repo, rootRel), this.repo);
      manifests = kustomizeBuild(rootRel, this.repo);
    } catch (error) {
      this.report(rootFile, '', error instanceof ToolError ? error.output : (error as Error).message);
      return;
    }
    this.built.push({ root: rootRel, objects: manifests });
    for (const problem of validateCustomResources(manifests)) {
      const manifest = manifests[problem.index];
      const object = objectId(manifest?.kind, manifest?.metadata?.name);
      this.reportAt(index, object, problem.key, `${object}: ${problem.message}`, rootFile);
    }
    for (const policy of manifests.filter((m) => m.kind === POLICY_KIND)) {
      const object = objectId(policy.kind, nameOf(policy));
      for (const problem of policyProblemsOf(policy)) {
        this.reportAt(
          index,
          object,
          problem.key,
          `${object}: ${problem.message} (the worker would ignore it)`,
          rootFile,
        );
      }
    }
    this.checkEntryPoints(manifests, index, rootFile);
    this.renderReleases(rootRel, manifests, index, rootFile);
  }

  /** Flux Kustomizations must point at buildable paths and depend only on objects defined beside them. */
  private checkEntryPoints(manifests: Manifest[], index: OriginIndex, rootFile: string): void {
    const kustomizations = manifests.filter(
      (m) => m.kind === 'Kustomization' && String(m.apiVersion).startsWith('kustomize.toolkit.fluxcd.io/'),
    );
    const names = new Set(kustomizations.map(nameOf));
    for (const k of kustomizations) {
      const object = objectId(k.kind, nameOf(k));
      const spec = (k.spec ?? {}) as { path?: string; dependsOn?: { name?: string }[] };
      (spec.dependsOn ?? []).forEach((dependency, i) => {
        if (!names.has(String(dependency.name))) {
          const message = `${object}: depends on '${dependency.name}', which no entry point here defines`;
          this.reportAt(index, object, ['spec', 'dependsOn', i, 'name'], message, rootFile);
        }
      });
      const path = spec.path ?? './';
      if (!kustomizationFile(join(this.repo, path))) {
        const message = `${object}: path '${path}' has no kustomization.yaml in this repository`;
        this.reportAt(index, object, ['spec', 'path'], message, rootFile);
        continue;
      }
      this.validateRoot(path);
    }
  }

  private renderReleases(root: string, manifests: Manifest[], index: OriginIndex, rootFile: string): void {
    // Flux and Prometheus Operator objects were checked against their schemas above; a
    // SOPS-encrypted Secret is only valid once Flux has decrypted it.
    const plain = manifests.filter((m) => !hasKnownSchema(m) && !('sops' in m));
    if (plain.length > 0) this.rendered.push({ root, index, namespace: 'default', objects: plain });
    for (const release of manifests.filter((m) => m.kind === 'HelmRelease' && isFluxObject(m))) {
      const object = objectId(release.kind, nameOf(release));
      const target = releaseTarget(release, manifests, this.repo);
      if ('message' in target) {
        this.reportAt(index, object, target.key, `${object}: ${target.message}`, rootFile);
        continue;
      }
      const local = chartVersion(target.chartDir);
      if (target.version !== undefined && target.version !== local) {
        const message = `chart version ${target.version} differs from ${this.rel(target.chartDir)} (${local}); run scripts/release-version.sh`;
        const source = manifests.find((m) => m.kind === 'OCIRepository');
        const sourceId = source ? objectId(source.kind, nameOf(source)) : object;
        this.reportAt(index, sourceId, ['spec', 'ref', 'tag'], message, rootFile);
      }
      try {
        const objects = helmTemplate(target, this.repo);
        this.rendered.push({ root, index, release: { id: object, target }, namespace: target.namespace, objects });
      } catch (error) {
        if (!(error instanceof ToolError)) throw error;
        const errors = helmSchemaErrors(error.output);
        const chart = this.rel(target.chartDir);
        if (errors.length === 0) {
          this.reportAt(index, object, ['spec', 'values'], `helm template ${chart}: ${error.output}`, rootFile);
        }
        for (const { key, line } of errors) {
          this.reportAt(index, object, ['spec', 'values', ...key], `${line} (values schema of ${chart})`, rootFile);
        }
      }
    }
  }

  /**
   * Server-side dry-run of everything rendered (namespaces are created for real first); kinds
   * the API server has no CRD for are checked against their schemas instead.
   */
  async dryRun(api: ServerSideApply): Promise<number> {
    let applied = 0;
    for (const set of this.rendered) {
      const fallback = kustomizationFile(join(this.repo, set.root));
      const rootFile = fallback ? this.rel(fallback) : set.root;
      const namespaces = new Set<string>([set.namespace]);
      for (const m of set.objects) if (m.kind === 'Namespace') namespaces.add(nameOf(m));
      for (const m of set.objects) if (typeof m.metadata?.namespace === 'string') namespaces.add(m.metadata.namespace);
      for (const ns of namespaces) {
        const defined = set.objects.find((m) => m.kind === 'Namespace' && nameOf(m) === ns);
        // A namespace from elsewhere (the base, or created by hand) is only made to exist: its own
        // field manager leaves the labels another set applied in place.
        const result = defined
          ? await api.apply(defined, { dryRun: false, defaultNamespace: ns })
          : await api.apply(
              { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
              { dryRun: false, defaultNamespace: ns, fieldManager: 'kritik-validate-prerequisites' },
            );
        if (!result.ok) this.report(rootFile, `Namespace/${ns}`, result.messages.join('; '));
      }
      for (const manifest of set.objects) {
        if (manifest.kind === 'Namespace') continue;
        applied++;
        const messages = await this.check(api, manifest, set.namespace);
        if (messages.length > 0) await this.reportDryRun(set, manifest, messages, rootFile, api);
      }
    }
    return applied;
  }

  /** What is wrong with one rendered object (nothing: valid), PodSecurity violations included. */
  private async check(api: ServerSideApply, manifest: Manifest, namespace: string): Promise<string[]> {
    if (!(await api.serves(manifest))) {
      // No CRD in the test API server: the schemas stand in for it where there are some
      // (ServiceMonitor, ...); other custom resources (ExternalSecret, ...) are listed unchecked.
      if (hasKnownSchema(manifest)) {
        return validateCustomResources([manifest]).map((p) => `${formatKey(p.key)}: ${p.message}`);
      }
      this.unchecked.add(`${manifest.apiVersion} ${objectId(manifest.kind, nameOf(manifest))}`);
      return [];
    }
    const result = await api.apply(manifest, { dryRun: true, defaultNamespace: namespace });
    return result.ok ? result.messages.filter((m) => /violate PodSecurity/.test(m)) : result.messages;
  }

  /**
   * A rendered object is invalid: blame the values key the message quotes or, failing that, the
   * key set in these values without which the object becomes valid.
   */
  private async reportDryRun(
    set: Rendered,
    manifest: Manifest,
    messages: string[],
    rootFile: string,
    api: ServerSideApply,
  ): Promise<void> {
    const object = objectId(manifest.kind, nameOf(manifest));
    const message = `${object} rendered from these values is invalid: ${messages.join('; ')}`;
    if (!set.release) {
      this.reportAt(set.index, object, fieldInMessage(messages.join('\n')), message, rootFile);
      return;
    }
    const { id, target } = set.release;
    const text = messages.join('\n');
    // Newest writes first: overlays are applied after the base, and they are what a pull request changes.
    const leaves = set.index.leaves(id, ['spec', 'values']).reverse();
    let culprit = leaves.find((l) => text.includes(`"${String(l.value)}"`) || text.includes(`: ${String(l.value)}`));
    const inObject = scalarsOf(manifest);
    for (const leaf of culprit ? [] : leaves.filter((l) => inObject.has(String(l.value)))) {
      const values = withoutKey(target.values, leaf.key.slice(2));
      const again = helmTemplate({ ...target, values }, this.repo).find(
        (m) => m.kind === manifest.kind && nameOf(m) === nameOf(manifest),
      );
      if (again && (await this.check(api, again, set.namespace)).length === 0) {
        culprit = leaf;
        break;
      }
    }
    if (culprit) this.report(culprit.file, culprit.key, message);
    else this.reportAt(set.index, id, ['spec', 'values'], message, rootFile);
  }
}
