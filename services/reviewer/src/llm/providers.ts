// The model's providers behind the one LlmPort: Anthropic's API, Amazon Bedrock and Vertex AI
// through their official SDKs, each with credentials from the environment the SDK reads (workload
// identity: IRSA / EKS Pod Identity, GKE), and a fallback model for when the primary is overloaded.
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import {
  ConcurrencyLimit,
  type ModelProvider,
  type ModelSettings,
  type ModelTarget,
  priceOf,
  type ReviewResult,
} from '@kritik/core';
import {
  AnthropicLlm,
  createAnthropic,
  DEFAULT_RETRY,
  LlmError,
  type LlmPort,
  type MessageRequest,
  type ModelClient,
  type ModelTurn,
  type RetryPolicy,
  type ReviewCallOptions,
} from './anthropic.js';

export interface ProviderClientOptions {
  provider: ModelProvider;
  settings: ModelSettings;
  /** Anthropic only: the key (or the gateway's review token) and the API's address. */
  apiKey?: string;
  anthropicBaseUrl?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 180_000;

/** The SDK client of a provider; Bedrock and Vertex resolve their credentials as their SDKs do. */
export function createModelClient(options: ProviderClientOptions): ModelClient {
  const { settings } = options;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  switch (options.provider) {
    case 'anthropic':
      if (!options.apiKey) throw new Error('the anthropic provider needs an API key');
      return createAnthropic({
        apiKey: options.apiKey,
        ...(options.anthropicBaseUrl ? { baseURL: options.anthropicBaseUrl } : {}),
        timeoutMs: timeout,
      });
    case 'bedrock':
      return new AnthropicBedrock({
        // Passed explicitly, so AWS_REGION and ANTHROPIC_BEDROCK_BASE_URL are read in one place;
        // the credentials come from the AWS chain (env keys, web identity token file, Pod Identity).
        ...(settings.region ? { awsRegion: settings.region } : {}),
        ...(settings.bedrockBaseUrl ? { baseURL: settings.bedrockBaseUrl } : {}),
        // A Bedrock API key in the environment would replace SigV4; Kritik signs with the role only.
        apiKey: null,
        timeout,
        maxRetries: 0,
      });
    case 'vertex':
      return new AnthropicVertex({
        // Credentials from Application Default Credentials: GKE Workload Identity's metadata
        // server, or GOOGLE_APPLICATION_CREDENTIALS.
        region: settings.region ?? null,
        projectId: settings.vertexProjectId ?? null,
        ...(settings.vertexBaseUrl ? { baseURL: settings.vertexBaseUrl } : {}),
        timeout,
        maxRetries: 0,
      });
  }
}

/** One limit per provider in this process, so a primary and its fallback on one provider share it. */
export class ProviderLimits {
  private readonly limits = new Map<ModelProvider, ConcurrencyLimit>();

  constructor(private readonly max: number) {}

  of(provider: ModelProvider): ConcurrencyLimit {
    let limit = this.limits.get(provider);
    if (!limit) {
      limit = new ConcurrencyLimit(this.max);
      this.limits.set(provider, limit);
    }
    return limit;
  }
}

export interface ModelPortOptions extends Omit<ProviderClientOptions, 'provider'> {
  policy?: RetryPolicy;
  progress?: (message: string) => void;
}

/** The reviewer's model: the configured provider, and its fallback when one is set. */
export function createModelPort(options: ModelPortOptions): FallbackLlm | AnthropicLlm {
  const { settings } = options;
  const limits = new ProviderLimits(settings.maxConcurrency);
  const port = (provider: ModelProvider) =>
    new AnthropicLlm(createModelClient({ ...options, provider }), options.policy ?? DEFAULT_RETRY, options.progress, {
      provider,
      catalogue: settings.catalogue,
      limit: limits.of(provider),
    });
  const primary = port(settings.provider);
  if (!settings.fallback) return primary;
  const fallback = settings.fallback;
  return new FallbackLlm(
    primary,
    fallback.provider === settings.provider ? primary : port(fallback.provider),
    fallback,
    options.progress,
  );
}

/** Overloaded (529) or a server error after the primary's own retries: worth another model. */
export function fallsBack(error: unknown): boolean {
  if (!(error instanceof LlmError)) return false;
  return error.status !== undefined && (error.status === 529 || error.status >= 500);
}

/**
 * Sends to the primary; when it answers overloaded or 5xx after its retries, sends the same request
 * to the fallback model, and keeps to the fallback for the rest of the review so every later call
 * does not spend its retries on a primary known to be down. The switch is in the review's result.
 */
export class FallbackLlm implements LlmPort {
  private switched: { reason: string; calls: number } | undefined;
  private primaryModel: string | undefined;

  constructor(
    private readonly primary: LlmPort,
    private readonly secondary: LlmPort,
    private readonly target: ModelTarget,
    private readonly progress: (message: string) => void = () => {},
  ) {}

  get catalogue() {
    return this.primary.catalogue;
  }

  async send(request: MessageRequest, options?: ReviewCallOptions): Promise<ModelTurn> {
    if (!this.switched) {
      try {
        return await this.primary.send(request, options);
      } catch (error) {
        if (!fallsBack(error)) throw error;
        this.primaryModel = request.model;
        this.switched = { reason: (error as Error).message, calls: 0 };
        this.progress(`${(error as Error).message}; falling back to ${this.target.model} on ${this.target.provider}`);
      }
    }
    this.switched.calls++;
    const turn = await this.secondary.send({ ...request, model: this.target.model }, options);
    return { ...turn, price: priceOf(this.target.model, this.catalogue).price };
  }

  /** What the result records: the model that failed, the one that answered, and how many calls it took. */
  get fallback(): ReviewResult['fallback'] {
    if (!this.switched) return undefined;
    return {
      from: (this.primaryModel ?? '').slice(0, 200),
      to: `${this.target.provider}/${this.target.model}`.slice(0, 200),
      calls: this.switched.calls,
    };
  }
}
