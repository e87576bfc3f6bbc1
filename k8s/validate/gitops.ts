// Validates the GitOps tree: every kustomization builds, every Flux object meets the Flux
// schemas, cluster entry points wire existing paths and dependencies, and each HelmRelease's
// values render with the repository's chart and pass a server-side dry-run on a real API server.
// Every problem names the file and key to change.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { hasKnownSchema, isFluxObject, type Manifest, validateCustomResources } from './custom-resources.js';
import type { ServerSideApply } from './dry-run.js';
import { formatKey, type KeyPath, kustomizationFile, OriginIndex, objectId, pointerToKey } from './origins.js';
import { chartVersion, helmTemplate, kustomizeBuild, releaseTarget, ToolError } from './render.js';

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
  /** `Kind/name` of the HelmRelease whose chart produced `objects` (undefined: plain manifests). */
  readonly release?: string;
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

/** Key paths named in helm's values-schema errors (`at '/worker/replicas'`, additional properties). */
export function helmErrorKeys(output: string): KeyPath[] {
  const keys: KeyPath[] = [];
  for (const line of output.split('\n')) {
    const at = /at '([^']*)'/.exec(line);
    if (!at) continue;
    const base = pointerToKey(at[1] ?? '');
    const extra = /additional propert(?:y|ies) ((?:'[^']+'(?:, )?)+) (?:is |are )?not allowed/.exec(line);
    const missing = /missing propert(?:y|ies) ((?:'[^']+'(?:, )?)+)/.exec(line);
    const names = extra?.[1] ?? missing?.[1];
    if (names) for (const name of names.matchAll(/'([^']+)'/g)) keys.push([...base, name[1] ?? '']);
    else keys.push(base);
  }
  return keys;
}

export class GitOpsValidator {
  readonly problems: Problem[] = [];
  readonly rendered: Rendered[] = [];
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
    for (const problem of validateCustomResources(manifests, this.repo)) {
      const manifest = manifests[problem.index];
      const object = objectId(manifest?.kind, manifest?.metadata?.name);
      this.reportAt(index, object, problem.key, `${object}: ${problem.message}`, rootFile);
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
    const plain = manifests.filter((m) => !isFluxObject(m));
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
        this.rendered.push({ root, index, release: object, namespace: target.namespace, objects });
      } catch (error) {
        if (!(error instanceof ToolError)) throw error;
        const keys = helmErrorKeys(error.output);
        const message = `helm template ${this.rel(target.chartDir)}: ${error.output}`;
        if (keys.length === 0) this.reportAt(index, object, ['spec', 'values'], message, rootFile);
        for (const key of keys) this.reportAt(index, object, ['spec', 'values', ...key], message, rootFile);
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
        const manifest = set.objects.find((m) => m.kind === 'Namespace' && nameOf(m) === ns) ?? {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: ns },
        };
        const result = await api.apply(manifest, { dryRun: false, defaultNamespace: ns });
        if (!result.ok) this.report(rootFile, `Namespace/${ns}`, result.messages.join('; '));
      }
      for (const manifest of set.objects) {
        if (manifest.kind === 'Namespace') continue;
        applied++;
        if (!(await api.serves(manifest)) && hasKnownSchema(manifest)) {
          // No CRD in the test API server (ServiceMonitor, ...): the schemas stand in for it.
          const problems = validateCustomResources([manifest], this.repo);
          if (problems.length > 0)
            this.reportDryRun(
              set,
              manifest,
              problems.map((p) => `${formatKey(p.key)}: ${p.message}`),
              rootFile,
            );
          continue;
        }
        const result = await api.apply(manifest, { dryRun: true, defaultNamespace: set.namespace });
        const podSecurity = result.messages.filter((m) => /violate PodSecurity/.test(m));
        if (result.ok && podSecurity.length === 0) continue;
        this.reportDryRun(set, manifest, result.ok ? podSecurity : result.messages, rootFile);
      }
    }
    return applied;
  }

  /** A rendered object is invalid: blame the values key whose value the message quotes, if any. */
  private reportDryRun(set: Rendered, manifest: Manifest, messages: string[], rootFile: string): void {
    const object = objectId(manifest.kind, nameOf(manifest));
    const message = `${object} rendered from these values is invalid: ${messages.join('; ')}`;
    if (set.release) {
      const text = messages.join('\n');
      const quoted = set.index
        .leaves(set.release, ['spec', 'values'])
        .filter((leaf) => text.includes(`"${String(leaf.value)}"`) || text.includes(`: ${String(leaf.value)}`));
      // Prefer what an overlay set over what the base set: overlays are what pull requests change.
      const culprit = quoted.reverse()[0];
      if (culprit) {
        this.report(culprit.file, culprit.key, message);
        return;
      }
      this.reportAt(set.index, set.release, ['spec', 'values'], message, rootFile);
      return;
    }
    this.reportAt(set.index, object, [], message, rootFile);
  }
}
