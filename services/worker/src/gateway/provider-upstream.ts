// The gateway's way to Amazon Bedrock and Vertex AI: a review's Anthropic Messages request is sent
// through the provider's official SDK (SigV4 or Google OAuth from the worker's workload identity)
// and the reply, or the provider's error, goes back in the Anthropic API's own shape.
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import { APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { type ModelSettings, providerModelId, UnknownModelError } from '@kritik/core';

type CloudProvider = 'bedrock' | 'vertex';

/** What the gateway sends back: a status, the headers worth forwarding, and a JSON body. */
export interface UpstreamReply {
  status: number;
  headers: Headers;
  body: Buffer;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

const json = (status: number, value: unknown, headers = new Headers()): UpstreamReply => {
  headers.set('content-type', 'application/json');
  return { status, headers, body: Buffer.from(JSON.stringify(value)) };
};
const apiError = (status: number, message: string, headers?: Headers) =>
  json(status, { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } }, headers);

export class ProviderUpstream {
  private readonly client: AnthropicBedrock | AnthropicVertex;

  constructor(
    readonly provider: CloudProvider,
    private readonly settings: ModelSettings,
    timeoutMs: number,
  ) {
    // Retries are the reviewer's, as with Anthropic's API: the gateway passes each answer on once.
    this.client =
      provider === 'bedrock'
        ? new AnthropicBedrock({
            ...(settings.region ? { awsRegion: settings.region } : {}),
            ...(settings.bedrockBaseUrl ? { baseURL: settings.bedrockBaseUrl } : {}),
            apiKey: null,
            timeout: timeoutMs,
            maxRetries: 0,
          })
        : new AnthropicVertex({
            region: settings.region ?? null,
            projectId: settings.vertexProjectId ?? null,
            ...(settings.vertexBaseUrl ? { baseURL: settings.vertexBaseUrl } : {}),
            timeout: timeoutMs,
            maxRetries: 0,
          });
  }

  /** Sends one Messages call (count_tokens is not served by these providers); throws only when unreachable. */
  async send(pathname: string, request: Record<string, unknown>, signal: AbortSignal): Promise<UpstreamReply> {
    if (pathname !== '/v1/messages') return apiError(404, `${pathname} is not served through ${this.provider}`);
    let model: string;
    try {
      model = providerModelId(String(request.model), this.provider, this.settings.catalogue);
    } catch (error) {
      if (error instanceof UnknownModelError) return apiError(400, error.message);
      throw error;
    }
    try {
      const message = await this.client.messages.create(
        { ...(request as unknown as Parameters<AnthropicBedrock['messages']['create']>[0]), model, stream: false },
        { signal },
      );
      return json(200, message);
    } catch (error) {
      if (error instanceof APIConnectionTimeoutError)
        throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
      if (!(error instanceof APIError) || error.status === undefined) throw error;
      const body = error.error as { message?: unknown; error?: { message?: unknown } } | undefined;
      const message = String(body?.error?.message ?? body?.message ?? error.message).slice(0, 1000);
      const headers = new Headers();
      for (const name of ['retry-after', 'retry-after-ms', 'x-should-retry']) {
        const value = error.headers?.get(name);
        if (value) headers.set(name, value);
      }
      // Bedrock says "overloaded" with 503 ServiceUnavailable; the reviewer's fallback reads 529 and 5xx alike.
      return apiError(error.status, `${this.provider}: ${message}`, headers);
    }
  }
}
