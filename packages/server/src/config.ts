// Typed configuration: environment variables (and an optional YAML file named by KRITIK_CONFIG)
// validated once at boot against a service's zod schema. Nothing else reads process.env.
import { readFileSync } from 'node:fs';
import { ENV, GITHUB_LOGIN, MAX_DEBOUNCE_MS, REVIEW_RETENTION_DAYS, TRIGGER_DEFAULTS } from '@kritik/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** One bad setting: where it comes from (a variable or a path in the file) and what is wrong. */
export interface ConfigProblem {
  readonly source: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.source}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The problems of several services' configurations, checked in one pass so one round fixes them all. */
export interface ServiceProblems {
  readonly service: string;
  readonly problems: readonly ConfigProblem[];
}

/** The variable a problem names (`GITHUB_APP_ID`, or `GITHUB_APP_ID (or github.appId in f.yaml)`). */
const variableOf = (problem: ConfigProblem) => /^[A-Z][A-Z0-9_]*\b/.exec(problem.source)?.[0];

/**
 * What a person reads when the configuration does not validate: every problem of every service,
 * then one `export` line per variable to set (each once, whichever services need it).
 */
export function describeConfigProblems(all: readonly ServiceProblems[]): string {
  const failing = all.filter((entry) => entry.problems.length > 0);
  const count = failing.reduce((sum, entry) => sum + entry.problems.length, 0);
  const out = [`Kritik cannot start: ${count} setting(s) need fixing.`, ''];
  for (const { service, problems } of failing) {
    out.push(`${service}:`);
    for (const problem of problems) out.push(`  - ${problem.source}: ${problem.message}`);
  }
  const exports = exportLines(failing);
  if (exports.length > 0) {
    out.push('', 'Set them (docs/install.md says what each is), then start again:');
    for (const line of exports) out.push(`  ${line}`);
  }
  return `${out.join('\n')}\n`;
}

/** `export NAME=…` for each variable the problems name, once each, in the order first named. */
export function exportLines(all: readonly ServiceProblems[]): string[] {
  const names = all.flatMap((entry) => entry.problems.map(variableOf));
  return [...new Set(names)].filter((name): name is string => name !== undefined).map((name) => `export ${name}=…`);
}

export interface LoadConfigOptions<S extends z.ZodType> {
  readonly schema: S;
  /** Environment variable name → dotted path in the config object, e.g. `{ PORT: 'port' }`. */
  readonly env: Readonly<Record<string, string>>;
  /** The environment to read; `process.env` when omitted. */
  readonly source?: NodeJS.ProcessEnv;
  /** The YAML file; the KRITIK_CONFIG variable of `source` when omitted. */
  readonly file?: string;
}

/**
 * Builds the config object from the YAML file (if any) with environment variables on top, then
 * validates it. Throws one ConfigError naming every bad variable; never echoes values, since
 * many of them are secrets.
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.output<S> {
  const source = options.source ?? process.env;
  const file = options.file ?? nonEmpty(source[ENV.config]);
  const problems: ConfigProblem[] = [];
  let raw: Record<string, unknown> = {};
  if (file) {
    try {
      const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be a mapping');
        raw = parsed as Record<string, unknown>;
      }
    } catch (error) {
      problems.push({ source: `${ENV.config} (${file})`, message: `cannot be read: ${(error as Error).message}` });
    }
  }
  const fromEnv = new Set<string>();
  for (const path of Object.values(options.env)) ensureParents(raw, path);
  for (const [name, path] of Object.entries(options.env)) {
    const value = nonEmpty(source[name]);
    if (value === undefined) continue;
    setPath(raw, path, value);
    fromEnv.add(path);
  }
  const result = options.schema.safeParse(raw);
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String).join('.');
      problems.push({
        source: describeSource(path, options.env, fromEnv, file),
        message: getPath(raw, path) === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message,
      });
    }
  }
  throw new ConfigError(problems);
}

function describeSource(
  path: string,
  env: Readonly<Record<string, string>>,
  fromEnv: ReadonlySet<string>,
  file: string | undefined,
): string {
  // The variable whose path is the issue's path or its nearest ancestor names the setting.
  let best: [string, string] | undefined;
  for (const [name, target] of Object.entries(env)) {
    if ((path === target || path.startsWith(`${target}.`)) && (!best || target.length > best[1].length)) {
      best = [name, target];
    }
  }
  if (best && (fromEnv.has(best[1]) || !file)) return best[0];
  if (best && file) return `${best[0]} (or ${path} in ${file})`;
  return file ? `${path || '(root)'} in ${file}` : path || '(root)';
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

// Sections that variables map into exist even when empty, so a missing section is reported as
// its missing variables rather than as one anonymous object.
function ensureParents(target: Record<string, unknown>, path: string): void {
  let node = target;
  for (const part of path.split('.').slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node[part] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) return;
    node = node[part] as Record<string, unknown>;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function getPath(target: unknown, path: string): unknown {
  if (path === '') return target;
  let node = target;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

// Field helpers that accept both an environment string and a typed YAML value.

/** An integer from "8080" or 8080. */
export const intSetting = () => z.coerce.number().int();

/** A TCP port to listen on (0: any free one). */
export const portSetting = () => intSetting().min(0).max(65_535);

/** The logger's level (pino's names), `info` unless set. */
export const logLevelSetting = () =>
  z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** A boolean from "true"/"false"/"1"/"0"/"yes"/"no" or a YAML boolean. */
export const boolSetting = () =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    return value;
  }, z.boolean());

/** A list from "a, b,c" or a YAML sequence. */
export const listSetting = <T extends z.ZodType = z.ZodString>(item?: T) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : value,
    z.array(item ?? z.string()),
  );

// How long review records are kept: one fragment that backend and worker both embed as
// `history` (both write records through the lifecycle), read from one variable.

export const historySettingsSchema = z
  .object({
    /** Days a review record and its index entries are kept after the record's last change. */
    recordDays: intSetting()
      .min(REVIEW_RETENTION_DAYS.min)
      .max(REVIEW_RETENTION_DAYS.max)
      .default(REVIEW_RETENTION_DAYS.default),
  })
  .strict();
export type HistorySettings = z.output<typeof historySettingsSchema>;

/** The history settings with every default, for `.default(...)` of the `history` section. */
export const DEFAULT_HISTORY_SETTINGS: HistorySettings = historySettingsSchema.parse({});

/** The variables of the history settings, mapped under `at` (e.g. `history`). */
export function historyEnv(at: string): Readonly<Record<string, string>> {
  return { [ENV.reviewRetentionDays]: `${at}.recordDays` };
}

// What asks for a review: one fragment that backend and worker both embed as `triggers`, read
// from the same variables, so the chart and `npm start` configure both with one value.

export const triggerSettingsSchema = z
  .object({
    /** The App's login without `[bot]`: `@<botName> review` in a comment is a command. */
    botName: z.string().regex(GITHUB_LOGIN, 'must be a GitHub login').default(TRIGGER_DEFAULTS.botName),
    /** Adding this label to a pull request requests a review; the `@<bot> help` reply names it. */
    label: z.string().min(1).default(TRIGGER_DEFAULTS.label),
    /** A review waits this long for newer pushes to the same pull request, which replace it. */
    debounceMs: intSetting().min(0).max(MAX_DEBOUNCE_MS).default(TRIGGER_DEFAULTS.debounceMs),
    /** Whether drafts are reviewed where a repository's `.kritik.yaml` does not say (the worker's). */
    reviewDrafts: boolSetting().default(TRIGGER_DEFAULTS.reviewDrafts),
    /** Whether pull requests opened by bots are reviewed (the backend's). */
    reviewBots: boolSetting().default(TRIGGER_DEFAULTS.reviewBots),
  })
  .strict();
export type TriggerSettings = z.output<typeof triggerSettingsSchema>;

/** The trigger settings with every default, for `.default(...)` of the `triggers` section. */
export const DEFAULT_TRIGGER_SETTINGS: TriggerSettings = triggerSettingsSchema.parse({});

/** The variables of the trigger settings, mapped under `at` (e.g. `triggers`). */
export function triggerEnv(at: string): Readonly<Record<string, string>> {
  return {
    [ENV.botName]: `${at}.botName`,
    [ENV.triggerLabel]: `${at}.label`,
    [ENV.debounceMs]: `${at}.debounceMs`,
    [ENV.reviewDrafts]: `${at}.reviewDrafts`,
    [ENV.reviewBots]: `${at}.reviewBots`,
  };
}
