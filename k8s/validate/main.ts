// Command line of the GitOps validation (scripts/validate.sh) and of the manifest rendering the
// gitops-diff workflow compares between a pull request's base and head.
//   tsx k8s/validate/main.ts [--repo <dir>] [--no-dry-run] [<kustomization dir>...]
//   tsx k8s/validate/main.ts --render <out dir> [--repo <dir>]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '@kritik/control-plane';
import { stringify } from 'yaml';
import type { Manifest } from './custom-resources.js';
import { ServerSideApply } from './dry-run.js';
import { defaultRoots, formatProblem, GitOpsValidator, installChartCrds } from './gitops.js';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repo: { type: 'string', default: process.cwd() },
    render: { type: 'string' },
    'no-dry-run': { type: 'boolean', default: false },
  },
});

const repo = resolve(flags.repo ?? '.');
const roots = positionals.length > 0 ? positionals : defaultRoots(repo);

const sortKey = (m: Manifest) =>
  `${String(m.kind)}/${String(m.metadata?.namespace ?? '')}/${String(m.metadata?.name ?? '')}`;

/**
 * A Secret's values never reach the rendered files (they end up in a pull request comment), and
 * values the chart generates at random would show as a change on every run: keys stay, values go.
 */
export function redactSecret(m: Manifest): Manifest {
  if (m.kind !== 'Secret') return m;
  const redact = (data: unknown) =>
    data && typeof data === 'object' ? Object.fromEntries(Object.keys(data).map((key) => [key, '(redacted)'])) : data;
  return {
    ...m,
    ...('data' in m ? { data: redact(m.data) } : {}),
    ...('stringData' in m ? { stringData: redact(m.stringData) } : {}),
  };
}

/** Every object a root deploys (Flux objects and the charts they install), in a stable order. */
function renderRoots(validator: GitOpsValidator, out: string): void {
  mkdirSync(out, { recursive: true });
  const byRoot = new Map<string, Manifest[]>();
  for (const set of validator.built) byRoot.set(set.root, [...(byRoot.get(set.root) ?? []), ...set.objects]);
  for (const set of validator.rendered) {
    if (set.release) byRoot.set(set.root, [...(byRoot.get(set.root) ?? []), ...set.objects]);
  }
  for (const [root, objects] of byRoot) {
    const sorted = [...objects].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    const text = sorted.map((m) => `# ${sortKey(m)}\n${stringify(redactSecret(m), { lineWidth: 0 })}`).join('---\n');
    writeFileSync(join(out, `${root.replace(/[/\\]/g, '_')}.yaml`), text);
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const validator = new GitOpsValidator(repo);
  for (const root of roots) validator.validateRoot(root);

  if (flags.render) {
    // A diff is still worth showing when a side has problems: they are listed beside it.
    const out = resolve(flags.render);
    renderRoots(validator, out);
    writeFileSync(join(out, 'problems.txt'), validator.problems.map((p) => `${formatProblem(p)}\n`).join(''));
    process.stderr.write(`[validate] rendered ${validator.checkedRoots.join(', ')} to ${out}\n`);
    return 0;
  }
  if (!flags['no-dry-run'] && validator.rendered.length > 0) {
    const controlPlane = await startControlPlane();
    try {
      const token = controlPlane.adminKubeConfig().getCurrentUser()?.token ?? '';
      const connect = () => new ServerSideApply(controlPlane.server, readFileSync(controlPlane.caFile), token);
      // The chart's own CRDs (ReviewPolicy) first, so policies meet the schema the API server enforces.
      const crds = await installChartCrds(connect(), repo);
      process.stderr.write(`[validate] installed the chart's CRDs: ${crds.join(', ') || 'none'}\n`);
      const api = connect();
      const applied = await validator.dryRun(api);
      process.stderr.write(`[validate] ${applied} rendered objects passed to the API server (dry-run)\n`);
      for (const object of validator.unchecked) {
        process.stderr.write(`[validate] not checked (no CRD or schema here): ${object}\n`);
      }
    } finally {
      await controlPlane.stop();
    }
  }

  for (const problem of validator.problems) process.stdout.write(`${formatProblem(problem)}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const checked = validator.checkedRoots.join(', ');
  if (validator.problems.length > 0) {
    process.stderr.write(`[validate] ${validator.problems.length} problem(s) in ${checked} (${seconds} s)\n`);
    return 1;
  }
  process.stderr.write(`[validate] ok: ${checked} (${seconds} s)\n`);
  return 0;
}

// Exit only once stdout is flushed: with a pipe, process.exit() could cut the report short.
const exit = (code: number) => process.stdout.write('', () => process.exit(code));
main().then(exit, (error: unknown) => {
  process.stderr.write(`[validate] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exit(2);
});
