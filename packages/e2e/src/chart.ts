// The real chart on the harness control plane: `helm install` with the real helm binary, in an
// isolated helm home, so the platform under test is configured exactly as a cluster would be.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, requireTool } from '@kritik/testing';
import { stringify } from 'yaml';

export const CHART_DIR = () => join(repoRoot(), 'charts', 'kritik');

export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
}

function helmEnv(home: string, kubeconfig: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: kubeconfig,
  };
}

/** Runs helm; resolves its stdout, rejects with helm's own words. */
export function runHelm(args: readonly string[], kubeconfig: string, home: string): Promise<string> {
  const binary = requireTool('helm');
  return new Promise((resolveRun, reject) => {
    execFile(
      binary,
      args,
      { env: helmEnv(home, kubeconfig), maxBuffer: 32 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`helm ${args.slice(0, 2).join(' ')} failed: ${stderr || error.message}`));
        else resolveRun(stdout);
      },
    );
  });
}

/** `helm install <release> charts/kritik --namespace <ns> --create-namespace -f <values>`. */
export async function installChart(
  release: HelmRelease,
  values: Record<string, unknown>,
  kubeconfig: string,
): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'kritik-e2e-helm-'));
  const valuesFile = join(home, 'values.yaml');
  try {
    // A file, not --set: the App's PEM key and nested settings survive it unchanged. Removed with
    // the helm home once installed: it holds that key.
    writeFileSync(valuesFile, stringify(values), { mode: 0o600 });
    await runHelm(
      [
        ...['install', release.name, CHART_DIR(), '--namespace', release.namespace, '--create-namespace'],
        ...['--values', valuesFile],
      ],
      kubeconfig,
      home,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
