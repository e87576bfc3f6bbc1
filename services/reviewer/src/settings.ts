// The reviewer's environment, validated once into typed settings. Nothing else reads process.env;
// an invalid environment is reported with every bad variable named, never with a secret's value.
import {
  DEFAULT_GITHUB_API_URL,
  ENV,
  type ModelSettings,
  REVIEW_DEADLINE_ENV,
  type ReviewPayload,
  readModelSettings,
  reviewPayloadSchema,
} from '@kritik/core';
import { z } from 'zod';
import type { HostSettings } from './code-host/create.js';
import { type CheckoutLimits, DEFAULT_CHECKOUT_LIMITS } from './repo/checkout.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';
export const DEFAULT_GITLAB_URL = 'https://gitlab.com';
/** Seconds a review may spend before it stops sending model requests (under the Job's 600 s deadline). */
export const DEADLINE_ENV = REVIEW_DEADLINE_ENV;
const DEFAULT_DEADLINE_SECONDS = 540;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

const nonEmpty = z.string().trim().min(1, 'must be set');
const url = z.string().trim().url('must be a URL');
const positiveInt = z.coerce.number().int('must be an integer').positive('must be positive');
const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

function check<T>(entries: Record<string, [z.ZodTypeAny, unknown]>): T {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, [schema, value]] of Object.entries(entries)) {
    const r = schema.safeParse(value);
    if (r.success) out[name] = r.data;
    else problems.push(`${name} ${r.error.issues[0]?.message ?? 'is invalid'}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return out as T;
}

export interface ClientSettings {
  githubToken?: string;
  githubApiUrl: string;
  githubApiUrlSet: boolean;
  gitlabToken?: string;
  /** Base URL of the GitLab instance (gitlab.com by default); the API is under `/api/v4`. */
  gitlabUrl: string;
  gitlabUrlSet: boolean;
  anthropicApiKey?: string;
  anthropicBaseUrl?: string;
  /** Provider, region, catalogue and fallback (docs/providers). */
  model: ModelSettings;
  quiet: boolean;
}

/** Settings of the CLI: every variable optional; what a command needs is checked by the command. */
export function readClientSettings(env: Env): ClientSettings {
  const s = check<{
    [ENV.githubToken]?: string;
    [ENV.githubApiUrl]?: string;
    [ENV.gitlabToken]?: string;
    [ENV.gitlabUrl]?: string;
    [ENV.anthropicApiKey]?: string;
    [ENV.anthropicBaseUrl]?: string;
    [ENV.logLevel]?: string;
  }>({
    [ENV.githubToken]: [optional(nonEmpty), env[ENV.githubToken]],
    [ENV.githubApiUrl]: [optional(url), env[ENV.githubApiUrl]],
    [ENV.gitlabToken]: [optional(nonEmpty), env[ENV.gitlabToken]],
    [ENV.gitlabUrl]: [optional(url), env[ENV.gitlabUrl]],
    [ENV.anthropicApiKey]: [optional(nonEmpty), env[ENV.anthropicApiKey]],
    [ENV.anthropicBaseUrl]: [optional(url), env[ENV.anthropicBaseUrl]],
    [ENV.logLevel]: [optional(z.enum(['debug', 'info', 'warn', 'error', 'silent'])), env[ENV.logLevel]],
  });
  const model = readModelSettings(env);
  if ('problems' in model) throw new SettingsError(model.problems);
  const level = s[ENV.logLevel];
  return {
    githubToken: s[ENV.githubToken],
    githubApiUrl: s[ENV.githubApiUrl] ?? DEFAULT_GITHUB_API_URL,
    githubApiUrlSet: s[ENV.githubApiUrl] !== undefined,
    gitlabToken: s[ENV.gitlabToken],
    gitlabUrl: s[ENV.gitlabUrl] ?? DEFAULT_GITLAB_URL,
    gitlabUrlSet: s[ENV.gitlabUrl] !== undefined,
    anthropicApiKey: s[ENV.anthropicApiKey],
    anthropicBaseUrl: s[ENV.anthropicBaseUrl],
    model: model.settings,
    quiet: level === 'warn' || level === 'error' || level === 'silent',
  };
}

export interface JobSettings {
  payload: ReviewPayload;
  /** The payload's code host, its URL and the token for it. */
  host: HostSettings;
  /** Unset when every provider in use signs with the pod's cloud identity. */
  anthropicApiKey?: string;
  anthropicBaseUrl?: string;
  model: ModelSettings;
  terminationLog: string;
  deadlineSeconds: number;
  quiet: boolean;
  /** Where the pull request is checked out; unset reviews the diff alone. */
  workspace?: string;
  checkoutLimits: CheckoutLimits;
}

const payloadFromJson = z.string().transform((text, ctx) => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
    return z.NEVER;
  }
  const r = reviewPayloadSchema.safeParse(value);
  if (!r.success) {
    const fields = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join(', ');
    ctx.addIssue({ code: 'custom', message: `is not a valid review payload (${fields})` });
    return z.NEVER;
  }
  return r.data;
});

/** Settings of Job mode, where the worker provides everything; all required variables must be valid. */
export function readJobSettings(env: Env): JobSettings {
  const client = readClientSettingsOrProblems(env);
  // The token the payload's platform needs, named even when the payload is otherwise invalid.
  const tokenVar = platformOf(env[ENV.review]) === 'gitlab' ? ENV.gitlabToken : ENV.githubToken;
  const s = check<{
    [ENV.review]: ReviewPayload;
    [tokenVar]: string;
    [ENV.anthropicApiKey]?: string;
    [ENV.terminationLog]?: string;
    [DEADLINE_ENV]?: number;
    [ENV.workspace]?: string;
    [ENV.checkoutMaxBytes]?: number;
    [ENV.checkoutMaxFiles]?: number;
    [ENV.checkoutMaxFileBytes]?: number;
  }>({
    [ENV.review]: [z.string({ message: 'must be set' }).pipe(payloadFromJson), env[ENV.review]],
    [tokenVar]: [z.string({ message: 'must be set' }).pipe(nonEmpty), env[tokenVar]],
    [ENV.anthropicApiKey]: [
      usesAnthropic(client.settings?.model) ? z.string({ message: 'must be set' }).pipe(nonEmpty) : optional(nonEmpty),
      env[ENV.anthropicApiKey],
    ],
    [ENV.terminationLog]: [optional(nonEmpty), env[ENV.terminationLog]],
    [DEADLINE_ENV]: [optional(z.coerce.number().int().min(1).max(86_400)), env[DEADLINE_ENV]],
    [ENV.workspace]: [optional(z.string().startsWith('/', 'must be an absolute path')), env[ENV.workspace]],
    [ENV.checkoutMaxBytes]: [optional(positiveInt), env[ENV.checkoutMaxBytes]],
    [ENV.checkoutMaxFiles]: [optional(positiveInt), env[ENV.checkoutMaxFiles]],
    [ENV.checkoutMaxFileBytes]: [optional(positiveInt), env[ENV.checkoutMaxFileBytes]],
    ...client.entries,
  });
  const payload = s[ENV.review];
  // GITHUB_API_URL (GITLAB_URL) wins; the payload's apiUrl is what the worker saw for this review.
  const configured =
    payload.platform === 'gitlab'
      ? client.settings?.gitlabUrlSet && client.settings.gitlabUrl
      : client.settings?.githubApiUrlSet && client.settings.githubApiUrl;
  return {
    payload,
    host: { platform: payload.platform, token: s[tokenVar] as string, url: configured || payload.apiUrl },
    anthropicApiKey: s[ENV.anthropicApiKey],
    anthropicBaseUrl: client.settings?.anthropicBaseUrl,
    // Present whenever the check above passed: its problems fail the check.
    model: client.settings!.model,
    terminationLog: s[ENV.terminationLog] ?? DEFAULT_TERMINATION_LOG,
    deadlineSeconds: s[DEADLINE_ENV] ?? DEFAULT_DEADLINE_SECONDS,
    quiet: client.settings?.quiet ?? false,
    ...(s[ENV.workspace] ? { workspace: s[ENV.workspace] } : {}),
    checkoutLimits: {
      maxBytes: s[ENV.checkoutMaxBytes] ?? DEFAULT_CHECKOUT_LIMITS.maxBytes,
      maxFiles: s[ENV.checkoutMaxFiles] ?? DEFAULT_CHECKOUT_LIMITS.maxFiles,
      maxFileBytes: s[ENV.checkoutMaxFileBytes] ?? DEFAULT_CHECKOUT_LIMITS.maxFileBytes,
    },
  };
}

/** The payload's platform as far as it can be read; GitHub when it cannot (the payload's own problem is reported). */
function platformOf(review: string | undefined): string {
  try {
    return String((JSON.parse(review ?? '') as { platform?: unknown })?.platform ?? 'github');
  } catch {
    return 'github';
  }
}

/** Whether Anthropic's API (or the gateway, which speaks it) is called, so a key is needed. */
function usesAnthropic(model: ModelSettings | undefined): boolean {
  return !model || model.provider === 'anthropic' || model.fallback?.provider === 'anthropic';
}

/** Client settings, or their problems folded into the Job check so all are reported together. */
function readClientSettingsOrProblems(env: Env): {
  settings?: ClientSettings;
  entries: Record<string, [z.ZodTypeAny, unknown]>;
} {
  try {
    return { settings: readClientSettings(env), entries: {} };
  } catch (error) {
    const problems = (error as SettingsError).problems ?? [(error as Error).message];
    const entries: Record<string, [z.ZodTypeAny, unknown]> = {};
    for (const p of problems) {
      const name = p.split(' ')[0]!;
      entries[name] = [z.never({ message: p.slice(name.length + 1) }), undefined];
    }
    return { entries };
  }
}

/** Where the termination message goes even when the rest of the environment is invalid. */
export function terminationLogPath(env: Env): string {
  const path = env[ENV.terminationLog]?.trim();
  return path ? path : DEFAULT_TERMINATION_LOG;
}
