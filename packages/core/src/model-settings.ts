// Where the model runs, read alike by the worker (its gateway) and the reviewer (a Job in direct
// mode, or the CLI): provider, region, catalogue and fallback, every model checked against the catalogue.
import { ENV } from './env.js';
import {
  catalogueFromJson,
  DEFAULT_MODEL,
  MODEL_CATALOGUE,
  MODEL_PROVIDERS,
  type ModelCatalogue,
  type ModelProvider,
  providerModelId,
  UnknownModelError,
} from './models.js';

export interface ModelTarget {
  readonly provider: ModelProvider;
  readonly model: string;
}

export interface ModelSettings {
  readonly provider: ModelProvider;
  /** Bedrock's AWS region or Vertex AI's location; unset for Anthropic. */
  readonly region?: string;
  readonly vertexProjectId?: string;
  /** The provider's endpoint when not its default (the SDKs' own variables). */
  readonly bedrockBaseUrl?: string;
  readonly vertexBaseUrl?: string;
  readonly catalogue: ModelCatalogue;
  /** Asked when the primary answers 529/overloaded or 5xx after its retries. */
  readonly fallback?: ModelTarget;
  /** Calls in flight at once per provider in this process. */
  readonly maxConcurrency: number;
}

export const DEFAULT_MODEL_MAX_CONCURRENCY = 4;

type Env = Readonly<Record<string, string | undefined>>;

const set = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);
const isProvider = (v: string): v is ModelProvider => (MODEL_PROVIDERS as readonly string[]).includes(v);

/**
 * The model settings, or every problem named by its variable. The default model and the fallback
 * must be in the catalogue for their provider, so a wrong name stops the process at start-up with
 * the list of known ones instead of failing every review.
 */
export function readModelSettings(env: Env): { settings: ModelSettings } | { problems: string[] } {
  const problems: string[] = [];
  const providerText = set(env[ENV.modelProvider]) ?? 'anthropic';
  const provider: ModelProvider = isProvider(providerText) ? providerText : 'anthropic';
  if (!isProvider(providerText)) problems.push(`${ENV.modelProvider} must be one of ${MODEL_PROVIDERS.join(', ')}`);
  const fallbackProviderText = set(env[ENV.fallbackProvider]);
  let fallbackProvider = provider;
  if (fallbackProviderText !== undefined) {
    if (isProvider(fallbackProviderText)) fallbackProvider = fallbackProviderText;
    else problems.push(`${ENV.fallbackProvider} must be one of ${MODEL_PROVIDERS.join(', ')}`);
  }
  const region = set(env[ENV.modelRegion]);
  const vertexProjectId = set(env[ENV.vertexProjectId]);
  const cloud = new Set([provider, fallbackProvider]);
  if (!region && (cloud.has('bedrock') || cloud.has('vertex'))) {
    problems.push(`${ENV.modelRegion} must be set for ${[...cloud].filter((p) => p !== 'anthropic').join(' and ')}`);
  }
  if (region && !/^[a-z0-9-]+$/.test(region))
    problems.push(`${ENV.modelRegion} must be a region name such as us-east-1`);
  if (cloud.has('vertex') && !vertexProjectId) problems.push(`${ENV.vertexProjectId} must be set for vertex`);
  const urls: Record<string, string | undefined> = {};
  for (const name of [ENV.bedrockBaseUrl, ENV.vertexBaseUrl]) {
    const value = set(env[name]);
    if (value !== undefined && !URL.canParse(value)) problems.push(`${name} must be a URL`);
    urls[name] = value;
  }
  const concurrencyText = set(env[ENV.modelMaxConcurrency]);
  const maxConcurrency = concurrencyText === undefined ? DEFAULT_MODEL_MAX_CONCURRENCY : Number(concurrencyText);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 1000) {
    problems.push(`${ENV.modelMaxConcurrency} must be an integer from 1 to 1000`);
  }
  const merged = catalogueFromJson(env[ENV.modelCatalogue]);
  if ('problems' in merged) {
    for (const p of merged.problems) problems.push(`${ENV.modelCatalogue} ${p}`);
    return { problems };
  }
  const { catalogue } = merged;
  const known = (variable: string, target: ModelTarget, what: string) => {
    try {
      providerModelId(target.model, target.provider, catalogue);
    } catch (error) {
      if (!(error instanceof UnknownModelError)) throw error;
      problems.push(`${variable}: ${what} ${error.message}`);
    }
  };
  known(ENV.modelProvider, { provider, model: DEFAULT_MODEL }, 'the default');
  const fallbackModel = set(env[ENV.fallbackModel]);
  const fallback = fallbackModel ? { provider: fallbackProvider, model: fallbackModel } : undefined;
  if (fallback) known(ENV.fallbackModel, fallback, 'the fallback');
  else if (fallbackProviderText !== undefined) problems.push(`${ENV.fallbackProvider} needs ${ENV.fallbackModel}`);
  if (problems.length > 0) return { problems };
  return {
    settings: {
      provider,
      ...(region ? { region } : {}),
      ...(vertexProjectId ? { vertexProjectId } : {}),
      ...(urls[ENV.bedrockBaseUrl] ? { bedrockBaseUrl: urls[ENV.bedrockBaseUrl] } : {}),
      ...(urls[ENV.vertexBaseUrl] ? { vertexBaseUrl: urls[ENV.vertexBaseUrl] } : {}),
      catalogue,
      ...(fallback ? { fallback } : {}),
      maxConcurrency,
    },
  };
}

/** The variables that send a reviewer to a cloud provider, which a gateway's review must not carry. */
export const PROVIDER_ENV: readonly string[] = [
  ENV.modelProvider,
  ENV.modelRegion,
  ENV.vertexProjectId,
  ENV.bedrockBaseUrl,
  ENV.vertexBaseUrl,
  ENV.fallbackProvider,
];

/**
 * The environment that gives a reviewer these settings. Through the gateway the reviewer speaks
 * Anthropic's API to the gateway, which picks the provider by model: it gets the catalogue (to
 * price its budget) and the fallback model, never a provider.
 */
export function modelEnv(settings: ModelSettings, through: 'gateway' | 'direct'): Record<string, string> {
  const env: Record<string, string> = {};
  if (settings.catalogue !== MODEL_CATALOGUE) env[ENV.modelCatalogue] = JSON.stringify(overrideOf(settings.catalogue));
  if (settings.fallback) env[ENV.fallbackModel] = settings.fallback.model;
  if (through === 'gateway') return env;
  env[ENV.modelProvider] = settings.provider;
  if (settings.region) env[ENV.modelRegion] = settings.region;
  if (settings.vertexProjectId) env[ENV.vertexProjectId] = settings.vertexProjectId;
  if (settings.bedrockBaseUrl) env[ENV.bedrockBaseUrl] = settings.bedrockBaseUrl;
  if (settings.vertexBaseUrl) env[ENV.vertexBaseUrl] = settings.vertexBaseUrl;
  if (settings.fallback) env[ENV.fallbackProvider] = settings.fallback.provider;
  env[ENV.modelMaxConcurrency] = String(settings.maxConcurrency);
  return env;
}

/** The entries of a merged catalogue that differ from the built-in one: what reproduces it. */
function overrideOf(catalogue: ModelCatalogue): Record<string, ModelCatalogue[string]> {
  return Object.fromEntries(
    Object.entries(catalogue).filter(
      ([name, entry]) => JSON.stringify(MODEL_CATALOGUE[name]) !== JSON.stringify(entry),
    ),
  );
}

/**
 * Variables the provider SDKs read credentials from (keys, profile, IRSA's token file, EKS Pod
 * Identity's agent, Google's key file or metadata server). Kubernetes injects them into a pod;
 * a reviewer the worker runs as a local process inherits them when it calls the provider itself.
 */
export const PROVIDER_CREDENTIAL_ENV: readonly string[] = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_ENDPOINT_URL_STS',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GCE_METADATA_HOST',
];
