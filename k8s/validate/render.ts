// Builds a kustomization with the real kustomize and renders the chart of each HelmRelease in it
// with the real helm, using the values kept in the release: what Flux would apply.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@kritik/control-plane';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from './custom-resources.js';

export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly output: string,
  ) {
    super(`${tool} failed:\n${output}`);
  }
}

function run(tool: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(requireTool(tool), args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new ToolError(tool, `${result.stderr}${result.stdout}`.trim());
  return result.stdout;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null && typeof doc === 'object');
}

/** `kustomize build <dir>`, parsed. */
export function kustomizeBuild(dir: string, cwd: string): Manifest[] {
  return parseManifests(run('kustomize', ['build', dir], cwd));
}

export interface HelmReleaseTarget {
  readonly releaseName: string;
  readonly namespace: string;
  /** The chart in this repository the release installs (`charts/<name>`). */
  readonly chartDir: string;
  /** The chart version the cluster would pull. */
  readonly version: string | undefined;
  readonly values: Record<string, unknown>;
}

export interface ReleaseProblem {
  readonly key: readonly (string | number)[];
  readonly message: string;
}

const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
    value,
  );

/** Chart name of an `oci://host/path/<name>` or `https://…/<name>` URL. */
const chartNameOf = (url: string) => url.replace(/\/+$/, '').split('/').pop() ?? '';

/**
 * Works out what a HelmRelease installs: the local chart behind its source (OCIRepository via
 * `chartRef`, or a `spec.chart.spec.chart` name), the release name and namespace as Flux
 * computes them, and its inline values.
 */
export function releaseTarget(
  release: Manifest,
  manifests: readonly Manifest[],
  repoRoot: string,
): HelmReleaseTarget | ReleaseProblem {
  const name = String(get(release, 'metadata', 'name'));
  const namespace = String(get(release, 'metadata', 'namespace') ?? 'default');
  const targetNamespace = get(release, 'spec', 'targetNamespace') as string | undefined;
  const releaseName =
    (get(release, 'spec', 'releaseName') as string | undefined) ??
    (targetNamespace ? `${targetNamespace}-${name}` : name);
  if (get(release, 'spec', 'valuesFrom') !== undefined) {
    return {
      key: ['spec', 'valuesFrom'],
      message: 'values are kept in the release (spec.values) so pull requests show them; valuesFrom is not used',
    };
  }
  let chart: string | undefined;
  let version: string | undefined;
  const chartRef = get(release, 'spec', 'chartRef') as { kind?: string; name?: string } | undefined;
  if (chartRef) {
    const source = manifests.find((m) => m.kind === chartRef.kind && get(m, 'metadata', 'name') === chartRef.name);
    if (!source) {
      return {
        key: ['spec', 'chartRef', 'name'],
        message: `no ${chartRef.kind} named '${chartRef.name}' in this build`,
      };
    }
    chart = chartNameOf(String(get(source, 'spec', 'url') ?? ''));
    version = get(source, 'spec', 'ref', 'tag') as string | undefined;
  } else {
    chart = get(release, 'spec', 'chart', 'spec', 'chart') as string | undefined;
    version = get(release, 'spec', 'chart', 'spec', 'version') as string | undefined;
  }
  const chartDir = join(repoRoot, 'charts', chart ?? '');
  if (!chart || !existsSync(join(chartDir, 'Chart.yaml'))) {
    return { key: ['spec', 'chartRef'], message: `the chart '${chart}' is not in charts/ of this repository` };
  }
  return {
    releaseName,
    namespace: targetNamespace ?? namespace,
    chartDir,
    version,
    values: (get(release, 'spec', 'values') as Record<string, unknown> | undefined) ?? {},
  };
}

/** The `version:` of a chart directory's Chart.yaml. */
export function chartVersion(chartDir: string): string | undefined {
  const match = /^version:\s*["']?([^"'\s]+)/m.exec(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'));
  return match?.[1];
}

/** `helm template` of the target with its values, parsed. */
export function helmTemplate(target: HelmReleaseTarget, cwd: string): Manifest[] {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-values-'));
  try {
    const valuesFile = join(dir, 'values.yaml');
    writeFileSync(valuesFile, JSON.stringify(target.values));
    const args = ['template', target.releaseName, target.chartDir, '--namespace', target.namespace, '-f', valuesFile];
    // A helm home of its own: the developer's repositories, plugins and cluster stay out of it.
    const env = {
      ...process.env,
      HELM_CONFIG_HOME: join(dir, 'config'),
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_DATA_HOME: join(dir, 'data'),
      KUBECONFIG: join(dir, 'no-cluster.kubeconfig'),
    };
    return parseManifests(run('helm', args, cwd, env));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
