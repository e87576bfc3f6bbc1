// How a review's settings are decided: built-in defaults < matching policies by priority < the
// repository's `.kritik.yaml` (keys not locked) < ceilings. Pure; every key records who set it.
import { z } from 'zod';
import { compileRepoGlobs, globProblem } from '../globs.js';
import { type Platform, type Severity, severitySchema, type Trigger } from '../review.js';
import {
  type ConfigKey,
  LOCKABLE_KEYS,
  lockableKeySchema,
  type NamedPolicy,
  policyTriggersSchema,
  type ReviewPolicySpec,
} from './policy.schema.js';

/** The settings of one review, keyed as `.kritik.yaml` spells them (the reviewer's config satisfies it). */
export interface RepositoryConfig {
  instructions: string;
  path_instructions: { path: string; instructions: string }[];
  ignore: string[];
  max_comments: number;
  min_severity: Severity;
  model: string;
  max_input_tokens: number;
  max_cost_usd: number;
  review_drafts?: boolean | undefined;
  max_turns: number;
  verify: boolean;
  verify_model: string;
}

/** Keys whose values add up across layers instead of replacing each other. */
const ADDITIVE_KEYS = ['instructions', 'path_instructions', 'ignore'] as const satisfies readonly ConfigKey[];
const isAdditive = (key: ConfigKey) => (ADDITIVE_KEYS as readonly ConfigKey[]).includes(key);

const sourced = <T extends z.ZodType>(value: T) => z.object({ value, policy: z.string() }).strict();

export const BUDGET_SCOPES = ['repository', 'org'] as const;
export const BUDGET_PERIODS = ['day', 'month'] as const;
export const budgetSchema = z
  .object({
    /** `<policy>/<scope>-per-<period>`: the name a check run, a metric and an alert show. */
    id: z.string(),
    policy: z.string(),
    scope: z.enum(BUDGET_SCOPES),
    period: z.enum(BUDGET_PERIODS),
    limitUsd: z.number().positive(),
  })
  .strict();
export type Budget = z.infer<typeof budgetSchema>;

/**
 * What the matching policies decide for one repository, before its `.kritik.yaml` is read: the
 * worker computes it and hands it to the review in its payload; the reviewer layers the file under it.
 */
export const policyLayerSchema = z
  .object({
    /** Names of the policies applied, lowest priority first. */
    policies: z.array(z.string()),
    values: z
      .object({
        model: sourced(z.string()).optional(),
        max_comments: sourced(z.number()).optional(),
        min_severity: sourced(z.lazy(() => severitySchema)).optional(),
        max_input_tokens: sourced(z.number()).optional(),
        max_cost_usd: sourced(z.number()).optional(),
        max_turns: sourced(z.number()).optional(),
        review_drafts: sourced(z.boolean()).optional(),
        verify: sourced(z.boolean()).optional(),
      })
      .strict(),
    instructions: z.array(z.object({ policy: z.string(), text: z.string() }).strict()),
    pathInstructions: z.array(z.object({ policy: z.string(), path: z.string(), instructions: z.string() }).strict()),
    ignore: z.array(z.object({ policy: z.string(), glob: z.string() }).strict()),
    locked: z.array(z.object({ key: lockableKeySchema, policy: z.string() }).strict()),
    ceilings: z
      .object({
        allowedModels: sourced(z.array(z.string()).min(1)).optional(),
        maxCostUsd: sourced(z.number().positive()).optional(),
        maxInputTokens: sourced(z.number().int().positive()).optional(),
        maxTurns: sourced(z.number().int().positive()).optional(),
      })
      .strict(),
    budgets: z.array(budgetSchema),
    /** The triggers of the highest-priority policy that sets any: which pull requests are reviewed. */
    triggers: policyTriggersSchema.extend({ policy: z.string() }).strict().optional(),
  })
  .strict();
export type PolicyLayer = z.infer<typeof policyLayerSchema>;

export const emptyPolicyLayer = (): PolicyLayer => ({
  policies: [],
  values: {},
  instructions: [],
  pathInstructions: [],
  ignore: [],
  locked: [],
  ceilings: {},
  budgets: [],
});

export interface PolicyTarget {
  platform: Platform;
  owner: string;
  name: string;
}

/** Whether a policy's selector takes in a repository; an empty selector takes in every one. */
export function policyMatches(spec: ReviewPolicySpec, target: PolicyTarget): boolean {
  const { repositories, orgs, platforms } = spec.selector;
  if (platforms?.length && !platforms.includes(target.platform)) return false;
  if (orgs?.length && !compileRepoGlobs(orgs)(target.owner)) return false;
  if (repositories?.length && !compileRepoGlobs(repositories)(`${target.owner}/${target.name}`)) return false;
  return true;
}

/**
 * What the schema cannot see: globs that do not compile, and a policy whose defaults break its own
 * ceilings. A policy with problems is reported (Ready=False) and left out; the others apply.
 */
export function policyProblems(spec: ReviewPolicySpec): string[] {
  const problems: string[] = [];
  const globs: [string, readonly string[] | undefined][] = [
    ['selector.repositories', spec.selector.repositories],
    ['selector.orgs', spec.selector.orgs],
    ['ignore', spec.ignore],
    ['pathInstructions[].path', spec.pathInstructions?.map((p) => p.path)],
    ['triggers.baseBranches', spec.triggers?.baseBranches],
  ];
  for (const [field, list] of globs) {
    for (const g of list ?? []) {
      const problem = globProblem(g);
      if (problem) problems.push(`${field}: glob ${JSON.stringify(g)} is invalid: ${problem}`);
    }
  }
  const { defaults = {}, ceilings = {} } = spec;
  if (defaults.model && ceilings.allowedModels && !ceilings.allowedModels.includes(defaults.model)) {
    problems.push(`defaults.model ${JSON.stringify(defaults.model)} is not in ceilings.allowedModels`);
  }
  const over: [string, number | undefined, number | undefined][] = [
    ['maxCostUsdPerReview', defaults.maxCostUsdPerReview, ceilings.maxCostUsdPerReview],
    ['maxInputTokens', defaults.maxInputTokens, ceilings.maxInputTokens],
    ['maxTurns', defaults.maxTurns, ceilings.maxTurns],
  ];
  for (const [key, value, ceiling] of over) {
    if (value !== undefined && ceiling !== undefined && value > ceiling) {
      problems.push(`defaults.${key} ${value} is above ceilings.${key} ${ceiling}`);
    }
  }
  return problems;
}

/** Lowest priority first; equal priorities by name, so the order never depends on listing order. */
const byPriority = (a: NamedPolicy, b: NamedPolicy) =>
  a.spec.priority - b.spec.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const DEFAULT_KEYS = {
  model: 'model',
  maxComments: 'max_comments',
  maxInputTokens: 'max_input_tokens',
  maxCostUsdPerReview: 'max_cost_usd',
  maxTurns: 'max_turns',
  reviewDrafts: 'review_drafts',
  verify: 'verify',
} as const satisfies Record<keyof NonNullable<ReviewPolicySpec['defaults']>, keyof PolicyLayer['values']>;

/** The layer of the given (already matching, valid) policies. */
export function buildPolicyLayer(policies: readonly NamedPolicy[]): PolicyLayer {
  const layer = emptyPolicyLayer();
  const values: Record<string, { value: unknown; policy: string }> = {};
  const lockedBy = new Map<ConfigKey, string>();
  const ceilings = layer.ceilings;
  for (const { name: policy, spec } of [...policies].sort(byPriority)) {
    layer.policies.push(policy);
    for (const [from, to] of Object.entries(DEFAULT_KEYS)) {
      const value = spec.defaults?.[from as keyof typeof DEFAULT_KEYS];
      if (value !== undefined) values[to] = { value, policy };
    }
    if (spec.severityThreshold) values.min_severity = { value: spec.severityThreshold, policy };
    if (spec.instructions) layer.instructions.push({ policy, text: spec.instructions });
    for (const pi of spec.pathInstructions ?? []) layer.pathInstructions.push({ policy, ...pi });
    for (const glob of spec.ignore ?? []) layer.ignore.push({ policy, glob });
    if (spec.triggers) layer.triggers = { policy, ...spec.triggers };
    // The highest priority that locks a key is named, as it would have to unlock it.
    for (const key of spec.locked ?? []) lockedBy.set(key, policy);
    const c = spec.ceilings ?? {};
    const lower = (current: { value: number; policy: string } | undefined, value: number | undefined) =>
      value !== undefined && (!current || value < current.value) ? { value, policy } : current;
    const cost = lower(ceilings.maxCostUsd, c.maxCostUsdPerReview);
    const tokens = lower(ceilings.maxInputTokens, c.maxInputTokens);
    const turns = lower(ceilings.maxTurns, c.maxTurns);
    if (cost) ceilings.maxCostUsd = cost;
    if (tokens) ceilings.maxInputTokens = tokens;
    if (turns) ceilings.maxTurns = turns;
    if (c.allowedModels) {
      // Strictest wins: only models every policy allows; if they share none, the later one's list.
      const shared = ceilings.allowedModels
        ? ceilings.allowedModels.value.filter((m) => c.allowedModels!.includes(m))
        : c.allowedModels;
      ceilings.allowedModels =
        shared.length > 0 ? { value: [...shared], policy } : { value: [...c.allowedModels], policy };
    }
    const b = spec.budgets ?? {};
    const budget = (scope: Budget['scope'], period: Budget['period'], limitUsd: number | undefined) => {
      if (limitUsd !== undefined) {
        layer.budgets.push({ id: `${policy}/${scope}-per-${period}`, policy, scope, period, limitUsd });
      }
    };
    budget('repository', 'day', b.repositoryPerDayUsd);
    budget('repository', 'month', b.repositoryPerMonthUsd);
    budget('org', 'month', b.orgPerMonthUsd);
  }
  layer.values = values as PolicyLayer['values'];
  layer.locked = LOCKABLE_KEYS.filter((k) => lockedBy.has(k)).map((key) => ({ key, policy: lockedBy.get(key)! }));
  return layer;
}

/** What the reviewer knows of a pull request when it decides whether a policy's triggers take it. */
export interface TriggerFacts {
  trigger: Trigger;
  baseRef: string;
  title: string;
  /** The labels the pull request carries now (GitHub's `labels[].name`, GitLab's `labels`). */
  labels: readonly string[];
}

/** Whether a pull request carries one of `wanted`: label names compared whole, case-insensitively. */
function carriesLabel(labels: readonly string[], wanted: readonly string[]): boolean {
  const has = new Set(labels.map((l) => l.toLowerCase()));
  return wanted.some((w) => has.has(w.toLowerCase()));
}

/**
 * Why the policy's triggers leave this pull request unreviewed, or undefined. `labels` takes a pull
 * request carrying any one of them (whatever event brought it: a push to a labelled one is reviewed
 * too); the label names are the reader's, so they are quoted in the reason. Drafts are not
 * decided here: `triggers.drafts` is the platform's answer to drafts (see reviewsDrafts). A review
 * run by hand from the CLI is never stopped.
 */
export function triggerStop(triggers: PolicyLayer['triggers'], facts: TriggerFacts): string | undefined {
  if (!triggers || facts.trigger === 'cli') return undefined;
  const by = `policy "${triggers.policy}"`;
  if (triggers.events && !triggers.events.includes(facts.trigger)) {
    return `${by} does not review ${facts.trigger} events (only ${triggers.events.join(', ')})`;
  }
  if (triggers.baseBranches?.length && !compileRepoGlobs(triggers.baseBranches)(facts.baseRef)) {
    return `${by} reviews only pull requests into ${triggers.baseBranches.join(', ')}`;
  }
  if (triggers.labels?.length && !carriesLabel(facts.labels, triggers.labels)) {
    return `${by} reviews only pull requests labelled ${triggers.labels.map((l) => JSON.stringify(l)).join(' or ')}`;
  }
  const title = facts.title.toLowerCase();
  const tag = triggers.skipTitleTags?.find((t) => title.includes(t.toLowerCase()));
  if (tag !== undefined) return `the title has ${JSON.stringify(tag)}, which ${by} skips`;
  return undefined;
}

/** The layer for one repository out of every valid policy. */
export function policyLayerFor(policies: readonly NamedPolicy[], target: PolicyTarget): PolicyLayer {
  return buildPolicyLayer(policies.filter((p) => policyMatches(p.spec, target)));
}

export const SOURCE_DEFAULT = 'default';
export const SOURCE_REPOSITORY = '.kritik.yaml';
export const SOURCE_PLATFORM = 'platform';
export const policySource = (policy: string) => `policy/${policy}`;
export const ceilingSource = (policy: string) => `ceiling/${policy}`;

/** The platform's own ceilings (the chart's reviewJob.ceilings), below every policy. */
export interface PlatformCeilings {
  maxCostUsd: number;
  maxInputTokens: number;
}

export interface LayerIssue {
  field: string;
  message: string;
}

export interface LayeredConfig<C extends RepositoryConfig> {
  config: C;
  /** Who set each key last; additive keys list every contributor joined by ` + `. */
  setBy: Record<ConfigKey, string>;
  /** What the repository's file asked for and did not get. */
  issues: LayerIssue[];
  policies: string[];
}

/**
 * Layers a repository's `.kritik.yaml` (`repository`: only the keys its file set, validly) between
 * the policies and the ceilings. Never throws; a locked key or a value above a ceiling is an issue.
 */
export function layerConfig<C extends RepositoryConfig>(
  defaults: C,
  layer: PolicyLayer,
  repository: Partial<RepositoryConfig>,
  platform?: PlatformCeilings,
): LayeredConfig<C> {
  const config: C = { ...defaults, path_instructions: [...defaults.path_instructions], ignore: [...defaults.ignore] };
  const setBy = Object.fromEntries(LOCKABLE_KEYS.map((k) => [k, SOURCE_DEFAULT])) as Record<ConfigKey, string>;
  const contributors = Object.fromEntries(ADDITIVE_KEYS.map((k) => [k, [] as string[]])) as Record<string, string[]>;
  const issues: LayerIssue[] = [];
  const set = (key: ConfigKey, value: unknown, source: string) => {
    (config as Record<string, unknown>)[key] = value;
    setBy[key] = source;
  };

  for (const [key, v] of Object.entries(layer.values) as [ConfigKey, { value: unknown; policy: string }][]) {
    set(key, v.value, policySource(v.policy));
  }
  const policyText = layer.instructions.map((i) => i.text.trim());
  const addContributor = (key: string, source: string) => {
    if (!contributors[key]!.includes(source)) contributors[key]!.push(source);
  };
  for (const i of layer.instructions) addContributor('instructions', policySource(i.policy));
  for (const p of layer.pathInstructions) addContributor('path_instructions', policySource(p.policy));
  for (const g of layer.ignore) addContributor('ignore', policySource(g.policy));
  config.path_instructions.push(...layer.pathInstructions.map(({ path, instructions }) => ({ path, instructions })));
  config.ignore.push(...layer.ignore.map((g) => g.glob));

  const locked = new Map(layer.locked.map((l) => [l.key, l.policy]));
  let repositoryText = defaults.instructions.trim();
  for (const key of LOCKABLE_KEYS) {
    if (!Object.hasOwn(repository, key) || repository[key] === undefined) continue;
    const owner = locked.get(key);
    if (owner !== undefined) {
      issues.push({ field: key, message: `locked by policy "${owner}"; the file's value was ignored` });
      continue;
    }
    if (key === 'instructions') repositoryText = (repository.instructions ?? '').trim();
    else if (key === 'path_instructions') config.path_instructions.push(...(repository.path_instructions ?? []));
    else if (key === 'ignore') config.ignore.push(...(repository.ignore ?? []));
    else set(key, repository[key], SOURCE_REPOSITORY);
    if (isAdditive(key)) addContributor(key, SOURCE_REPOSITORY);
  }
  config.instructions = [...policyText, repositoryText].filter(Boolean).join('\n\n');
  for (const key of ADDITIVE_KEYS) {
    if (contributors[key]!.length > 0) setBy[key] = contributors[key]!.join(' + ');
  }

  const c = layer.ceilings;
  const dollars = (n: number) => `$${n}`;
  const plain = (n: number) => String(n);
  type Capped = 'max_cost_usd' | 'max_input_tokens' | 'max_turns';
  const policyCeilings: [Capped, { value: number; policy: string } | undefined, (n: number) => string][] = [
    ['max_cost_usd', c.maxCostUsd, dollars],
    ['max_input_tokens', c.maxInputTokens, plain],
    ['max_turns', c.maxTurns, plain],
  ];
  const limits: { key: Capped; limit: number; source: string; whose: string; describe: (n: number) => string }[] = [
    ...policyCeilings.flatMap(([key, ceiling, describe]) =>
      ceiling
        ? [
            {
              key,
              limit: ceiling.value,
              source: ceilingSource(ceiling.policy),
              whose: `the ceiling of policy "${ceiling.policy}"`,
              describe,
            },
          ]
        : [],
    ),
    ...(platform
      ? [
          { key: 'max_cost_usd' as const, limit: platform.maxCostUsd, describe: dollars },
          { key: 'max_input_tokens' as const, limit: platform.maxInputTokens, describe: plain },
        ].map((l) => ({ ...l, source: SOURCE_PLATFORM, whose: "the platform's ceiling" }))
      : []),
  ];
  for (const { key, limit, source, whose, describe } of limits) {
    if (config[key] <= limit) continue;
    if (setBy[key] === SOURCE_REPOSITORY) {
      issues.push({ field: key, message: `${describe(config[key])} is above ${whose}; ${describe(limit)} used` });
    }
    set(key, limit, source);
  }
  if (c.allowedModels) {
    const allowed = c.allowedModels.value;
    for (const key of ['model', 'verify_model'] as const) {
      if (allowed.includes(config[key])) continue;
      if (setBy[key] === SOURCE_REPOSITORY) {
        issues.push({
          field: key,
          message: `${JSON.stringify(config[key])} is not allowed by policy "${c.allowedModels.policy}" (allowed: ${allowed.join(', ')}); ${allowed[0]} used`,
        });
      }
      set(key, allowed[0], ceilingSource(c.allowedModels.policy));
    }
  }
  return { config, setBy, issues, policies: [...layer.policies] };
}
