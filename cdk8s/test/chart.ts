// Test helpers for the generated chart: running the real helm (3 or 4) and kube-score in an
// isolated helm home, rendering scenarios and reading the rendered objects.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, requireTool } from '@kritik/testing';
import { parseAllDocuments } from 'yaml';

export const CHART_DIR = join(repoRoot(), 'charts', 'kritik');
export const SCENARIO_DIR = join(CHART_DIR, 'ci');
export const FIXTURES = join(repoRoot(), 'cdk8s', 'test', 'fixtures');

/** The chart's scenarios (`ci/*-values.yaml`), by file name. */
export const SCENARIOS = readdirSync(SCENARIO_DIR)
  .filter((file) => file.endsWith('-values.yaml'))
  .sort();

export const scenario = (file: string) => join(SCENARIO_DIR, file);

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// One helm home per spec file, so tests neither read nor write the developer's helm config;
// removed after the file's tests (a hook of every spec that imports this module).
let helmHome: string | undefined;
afterAll(() => {
  if (helmHome) rmSync(helmHome, { recursive: true, force: true });
  helmHome = undefined;
});
function helmEnv(kubeconfig?: string): NodeJS.ProcessEnv {
  helmHome ??= mkdtempSync(join(tmpdir(), 'kritik-helm-'));
  return {
    ...process.env,
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_DATA_HOME: join(helmHome, 'data'),
    KUBECONFIG: kubeconfig ?? join(helmHome, 'no-cluster.kubeconfig'),
  };
}

/** Runs a tool from .tools/bin (or PATH); fails with the install command when it is missing. */
export function run(
  tool: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  const binary = requireTool(tool);
  return new Promise((resolveRun) => {
    const child = execFile(
      binary,
      args,
      { env: options.env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolveRun({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

export type HelmBinary = 'helm' | 'helm4';

export function helm(args: readonly string[], options: { binary?: HelmBinary; kubeconfig?: string } = {}) {
  return run(options.binary ?? 'helm', args, { env: helmEnv(options.kubeconfig) });
}

/** Fails with helm's own output when a helm command did not succeed. */
export function expectSuccess(result: RunResult, what: string): string {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly valuesFiles?: readonly string[];
  /** `--set` pairs. */
  readonly set?: readonly string[];
  readonly binary?: HelmBinary;
}

export function templateArgs(options: RenderOptions): string[] {
  return [
    options.release ?? 'kritik',
    CHART_DIR,
    '--namespace',
    options.namespace ?? 'kritik',
    ...(options.valuesFiles ?? []).flatMap((file) => ['--values', file]),
    ...(options.set ?? []).flatMap((pair) => ['--set', pair]),
  ];
}

export function parseManifests(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** `helm template` of the chart; the rendered objects. */
export async function render(options: RenderOptions = {}): Promise<Manifest[]> {
  const result = await helm(['template', ...templateArgs(options)], { binary: options.binary });
  return parseManifests(expectSuccess(result, `helm template ${templateArgs(options).join(' ')}`));
}

export function findManifest<T = Manifest>(manifests: readonly Manifest[], kind: string, nameSuffix = ''): T {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (!found) {
    throw new Error(
      `no ${kind} named *${nameSuffix} among ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`,
    );
  }
  return found as unknown as T;
}
