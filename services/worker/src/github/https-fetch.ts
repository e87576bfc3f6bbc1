// The fetch Octokit calls GitHub with, on Node's http/https with kept-alive connections. Node's
// own fetch (undici, with its WebAssembly HTTP parser) costs the worker some 13 MiB once loaded,
// more than everything else it does per review; this covers what Octokit needs: status, headers,
// a text or binary body, redirects, compression, abort and a timeout.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** What Octokit's fetch wrapper passes. */
export interface FetchInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array | null;
  readonly signal?: AbortSignal | null;
  readonly redirect?: 'follow' | 'manual' | 'error';
}

/** What Octokit's fetch wrapper reads of a response. */
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly ok: boolean;
  readonly redirected: boolean;
  readonly headers: ResponseHeaders;
  readonly body: null;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface HttpsFetch {
  (url: string, init?: FetchInit): Promise<FetchResponse>;
  /** Closes the pooled connections. */
  destroy(): void;
}

export interface HttpsFetchOptions {
  /** Idle time after which a request fails (undici's header and body timeouts are 300 s). */
  readonly timeoutMs?: number;
  readonly maxSockets?: number;
  readonly maxRedirects?: number;
}

export class ResponseHeaders implements Iterable<[string, string]> {
  private readonly map = new Map<string, string>();

  constructor(raw: IncomingMessage['headers']) {
    for (const [name, value] of Object.entries(raw)) {
      if (value !== undefined) this.map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }

  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A fetch for Octokit (`request: { fetch }`), with its own pool of kept-alive connections. */
export function createHttpsFetch(options: HttpsFetchOptions = {}): HttpsFetch {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const maxRedirects = options.maxRedirects ?? 5;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32 };
  const agents = { 'http:': new HttpAgent(agentOptions), 'https:': new HttpsAgent(agentOptions) };

  const once = (url: URL, init: FetchInit) =>
    new Promise<{ res: IncomingMessage; data: Buffer }>((resolve, reject) => {
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:')
        return reject(new TypeError(`fetch failed: unsupported URL ${url.protocol}`));
      const body = init.body == null ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
      const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br', ...init.headers };
      if (body) headers['content-length'] = String(body.byteLength);
      const req = (secure ? httpsRequest : httpRequest)(url, {
        method: init.method ?? 'GET',
        headers,
        agent: agents[url.protocol as 'http:' | 'https:'],
        timeout: timeoutMs,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      const fail = (err: unknown) =>
        reject(
          (err as Error)?.name === 'AbortError'
            ? err
            : Object.assign(new TypeError('fetch failed'), {
                cause: err instanceof Error ? err : new Error(String(err)),
              }),
        );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
      req.on('error', fail);
      req.on('response', (res) => {
        const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
        const decoder =
          encoding === 'gzip' || encoding === 'x-gzip'
            ? createGunzip()
            : encoding === 'deflate'
              ? createInflate()
              : encoding === 'br'
                ? createBrotliDecompress()
                : undefined;
        const stream = decoder ? res.pipe(decoder) : res;
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => resolve({ res, data: Buffer.concat(chunks) }));
        stream.on('error', fail);
        res.on('error', fail);
      });
      req.end(body);
    });

  const fetch = async (input: string, init: FetchInit = {}): Promise<FetchResponse> => {
    let url = new URL(input);
    let current: FetchInit = init;
    for (let redirects = 0; ; redirects++) {
      const { res, data } = await once(url, current);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location && current.redirect !== 'manual') {
        if (current.redirect === 'error') throw new TypeError(`fetch failed: redirected to ${location}`);
        if (redirects >= maxRedirects) throw new TypeError(`fetch failed: more than ${maxRedirects} redirects`);
        const next = new URL(location, url);
        const method = (current.method ?? 'GET').toUpperCase();
        const asGet = status === 303 || ((status === 301 || status === 302) && method === 'POST');
        // As fetch does: credentials are not sent to another origin.
        const headers = { ...current.headers };
        if (next.origin !== url.origin)
          for (const name of Object.keys(headers)) if (/^authorization$/i.test(name)) delete headers[name];
        current = asGet ? { ...current, method: 'GET', body: null, headers } : { ...current, headers };
        url = next;
        continue;
      }
      const text = () => Promise.resolve(data.toString('utf8'));
      return {
        status,
        statusText: res.statusMessage ?? '',
        url: url.toString(),
        ok: status >= 200 && status < 300,
        redirected: redirects > 0,
        headers: new ResponseHeaders(res.headers),
        body: null,
        text,
        json: async () => JSON.parse(await text()) as unknown,
        arrayBuffer: () =>
          Promise.resolve(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer),
      };
    }
  };
  return Object.assign(fetch, {
    destroy() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}
