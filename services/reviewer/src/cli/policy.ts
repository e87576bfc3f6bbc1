// `kritik policy explain owner/repo`: the config a repository's reviews get from the platform's
// ReviewPolicies (read from files, stdin or the cluster) and its `.kritik.yaml`, key by key with who set it.
import { parseArgs } from 'node:util';
import {
  type ConfigKey,
  ENV,
  LOCKABLE_KEYS,
  type NamedPolicy,
  PLATFORMS,
  type Platform,
  POLICY_GROUP,
  POLICY_KIND,
  POLICY_PLURAL,
  POLICY_VERSION,
  policyLayerFor,
  policyProblems,
  reviewPolicySpecSchema,
} from '@kritik/core';
import { parseAllDocuments } from 'yaml';
import { applyPolicy, type EffectiveConfig, loadConfig } from '../config/config.js';
import type { Env } from '../settings.js';
import { EXIT, type Io } from './io.js';

export const POLICY_USAGE = `Usage:
  kritik policy explain <owner/repo> [--policies <file|->]... [--namespace <ns>] [--config <.kritik.yaml>]
                        [--platform github|gitlab] [--format text|json]
  Policies come from YAML files (kubectl get reviewpolicies -o yaml | kritik policy explain acme/api --policies -)
  or, with --namespace, from the cluster of ${ENV.kubeconfig} (or ~/.kube/config).`;

/** A policy as read, with why it is not used when it is not. */
export interface ReadPolicy {
  readonly name: string;
  readonly policy?: NamedPolicy;
  readonly problem?: string;
}

/** Reads ReviewPolicy objects (or Lists of them, as kubectl prints) out of YAML documents. */
export function readPolicies(objects: readonly unknown[]): ReadPolicy[] {
  const items = objects.flatMap((o) => {
    const object = o as { kind?: string; items?: unknown[] } | null;
    return object?.kind?.endsWith('List') && Array.isArray(object.items) ? object.items : [o];
  });
  return items
    .map((o) => o as { kind?: string; metadata?: { name?: string }; spec?: unknown })
    .filter((o) => o?.kind === POLICY_KIND)
    .map((o) => {
      const name = String(o.metadata?.name ?? '(unnamed)');
      const parsed = reviewPolicySpecSchema.safeParse(o.spec ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return { name, problem: `spec.${issue.path.join('.')}: ${issue.message}` };
      }
      const problems = policyProblems(parsed.data);
      return problems.length > 0
        ? { name, problem: problems.join('; ') }
        : { name, policy: { name, spec: parsed.data } };
    });
}

export interface Explanation {
  readonly repository: string;
  readonly effective: EffectiveConfig;
  readonly locked: Partial<Record<ConfigKey, string>>;
  readonly budgets: ReturnType<typeof policyLayerFor>['budgets'];
  readonly ignored: { name: string; problem: string }[];
}

/** The effective config of one repository: pure, from the policies read and its config text. */
export function explain(
  target: { platform: Platform; owner: string; name: string },
  policies: readonly ReadPolicy[],
  configText: string | null,
): Explanation {
  const valid = policies.flatMap((p) => (p.policy ? [p.policy] : []));
  const layer = policyLayerFor(valid, target);
  return {
    repository: `${target.platform}:${target.owner}/${target.name}`,
    effective: applyPolicy(loadConfig(configText), layer, undefined),
    locked: Object.fromEntries(layer.locked.map((l) => [l.key, l.policy])),
    budgets: layer.budgets,
    ignored: policies.flatMap((p) => (p.problem ? [{ name: p.name, problem: p.problem }] : [])),
  };
}

const show = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const line = (text ?? '(platform setting)').replace(/\s+/g, ' ');
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
};

export function formatExplanation(e: Explanation): string {
  const { config, setBy, policies, issues } = e.effective;
  const out = [
    `Effective review config of ${e.repository}`,
    `Policies applied (lowest priority first): ${policies.length > 0 ? policies.join(', ') : 'none'}`,
    '',
  ];
  const rows = LOCKABLE_KEYS.map((key) => [
    key,
    show(config[key]),
    setBy[key] + (e.locked[key] ? ` (locked by ${e.locked[key]})` : ''),
  ]);
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length), i === 0 ? 3 : 5));
  out.push(`${'key'.padEnd(widths[0]!)}  ${'value'.padEnd(widths[1]!)}  set by`);
  for (const [key, value, by] of rows) out.push(`${key!.padEnd(widths[0]!)}  ${value!.padEnd(widths[1]!)}  ${by}`);
  if (e.budgets.length > 0) {
    out.push('', 'Budgets:');
    for (const b of e.budgets) out.push(`  ${b.id}: ${b.limitUsd} USD per ${b.period} for this ${b.scope}`);
  }
  if (issues.length > 0) {
    out.push('', '.kritik.yaml:');
    for (const i of issues) out.push(`  ${i.field}: ${i.message}`);
  }
  if (e.ignored.length > 0) {
    out.push('', 'Policies ignored (the worker marks them Ready=False):');
    for (const p of e.ignored) out.push(`  ${p.name}: ${p.problem}`);
  }
  return `${out.join('\n')}\n`;
}

async function policiesFromCluster(namespace: string, env: Env): Promise<unknown[]> {
  // Loaded only for this subcommand: a review Job never needs the Kubernetes client.
  const { CustomObjectsApi, KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (env[ENV.kubeconfig]) kc.loadFromFile(env[ENV.kubeconfig]!);
  else kc.loadFromDefault();
  const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: POLICY_GROUP,
    version: POLICY_VERSION,
    namespace,
    plural: POLICY_PLURAL,
  })) as { items?: unknown[] };
  return (list.items ?? []).map((item) => ({ kind: POLICY_KIND, ...(item as object) }));
}

const parsePolicyArgs = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      policies: { type: 'string', multiple: true },
      namespace: { type: 'string' },
      config: { type: 'string' },
      platform: { type: 'string', default: 'github' },
      format: { type: 'string', default: 'text' },
    },
  });

export async function runPolicy(argv: readonly string[], env: Env, io: Io): Promise<number> {
  let parsed: ReturnType<typeof parsePolicyArgs>;
  try {
    parsed = parsePolicyArgs(argv);
  } catch (error) {
    io.stderr(`kritik: ${(error as Error).message}\n\n${POLICY_USAGE}\n`);
    return EXIT.badInput;
  }
  const { values, positionals } = parsed;
  const [sub, repo, ...extra] = positionals;
  const target = /^([^/\s]+)\/([^/\s]+)$/.exec(repo ?? '');
  const platform = values.platform as Platform;
  const problem =
    sub !== 'explain'
      ? `unknown policy command "${sub ?? ''}"`
      : !target || extra.length > 0
        ? 'expected one repository as owner/repo'
        : !PLATFORMS.includes(platform)
          ? `--platform must be one of ${PLATFORMS.join(', ')}`
          : !['text', 'json'].includes(values.format!)
            ? '--format must be text or json'
            : !values.policies?.length && !values.namespace
              ? 'give --policies <file|-> or --namespace <ns>'
              : undefined;
  if (problem) {
    io.stderr(`kritik: ${problem}\n\n${POLICY_USAGE}\n`);
    return EXIT.badInput;
  }
  let objects: unknown[] = [];
  try {
    for (const file of values.policies ?? []) {
      const text = file === '-' ? await io.readStdin() : await io.readFile(file);
      for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
        objects.push(doc.toJS());
      }
    }
    if (values.namespace) objects = [...objects, ...(await policiesFromCluster(values.namespace, env))];
  } catch (error) {
    io.stderr(`kritik: could not read the policies: ${(error as Error).message}\n`);
    return EXIT.badInput;
  }
  const configText = values.config ? await io.readFile(values.config) : null;
  const e = explain({ platform, owner: target![1]!, name: target![2]! }, readPolicies(objects), configText);
  io.stdout(values.format === 'json' ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
  return EXIT.ok;
}
