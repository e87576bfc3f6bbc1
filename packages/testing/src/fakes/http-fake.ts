// Shared machinery of the wire-level fakes: a loopback node:http server with a tiny router, a record of
// every request, and fault injection (fail, delay, drop) scoped to a route or global.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Pathname without the query string. */
  path: string;
  query: Record<string, string>;
  /** The raw query string (`?a=1&a=2`), for parameters given more than once. */
  search: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
  rawBody: string;
  /** Status sent back; undefined while pending or when the connection was dropped. */
  status?: number;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  /** A string or a Buffer is sent as is; anything else as JSON. */
  body?: unknown;
}

/** Which requests a fault applies to: `'POST /v1/messages'`, `'/repos/{owner}/{repo}/pulls/{n}'` or an object. */
export type RouteScope = string | { method?: string; path?: string | RegExp };

export type RouteHandler = (req: RecordedRequest, params: Record<string, string>) => FakeReply | Promise<FakeReply>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
}

type FaultAction = { kind: 'fail'; reply: FakeReply } | { kind: 'drop' } | { kind: 'delay'; ms: number };
type Fault = FaultAction & { remaining: number; matches: (req: RecordedRequest) => boolean };

/**
 * Compiles `/repos/{owner}/{repo}/contents/{path+}`: `{name}` matches one segment, `{name+}` the rest
 * of the path (slashes included). A path without braces matches itself.
 */
export function compilePath(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(param[1]!);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}$`), names };
}

function scopeMatcher(scope: RouteScope | undefined): (req: RecordedRequest) => boolean {
  if (scope === undefined) return () => true;
  let method: string | undefined;
  let path: string | RegExp | undefined;
  if (typeof scope === 'string') {
    const [first, second] = scope.trim().split(/\s+/);
    [method, path] = second === undefined ? [undefined, first] : [first, second];
  } else {
    ({ method, path } = scope);
  }
  const pattern = typeof path === 'string' ? compilePath(path).pattern : path;
  return (req) => (!method || req.method === method.toUpperCase()) && (!pattern || pattern.test(req.path));
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export abstract class HttpFake {
  /** Every request received, in arrival order, including failed and dropped ones. */
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private baseUrl?: string;
  private readonly routes: Route[] = [];
  private faults: Fault[] = [];
  private readonly latencies = new Map<string, { ms: number; matches: (req: RecordedRequest) => boolean }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  get url(): string {
    if (!this.baseUrl) throw new Error(`${this.constructor.name} is not started; call start() first`);
    return this.baseUrl;
  }

  async start(): Promise<this> {
    if (this.server) return this;
    // A client that hangs up mid-request must not become an unhandled rejection in the test process.
    const server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    // Clients keep connections alive; a fake must never hold a test process open.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `n` matching requests are answered with `reply`; the body defaults to the service's error shape. */
  failNext(n: number, reply: FakeReply, scope?: RouteScope): this {
    return this.addFault({ kind: 'fail', reply }, n, scope);
  }

  /** The next `n` matching requests get their socket destroyed without an answer. */
  dropNext(n: number, scope?: RouteScope): this {
    return this.addFault({ kind: 'drop' }, n, scope);
  }

  /** The next `n` matching requests are answered `ms` later than usual. */
  delayNext(ms: number, n = 1, scope?: RouteScope): this {
    return this.addFault({ kind: 'delay', ms }, n, scope);
  }

  /** Every matching request is answered `ms` late until changed; `setLatency(0)` clears the global latency. */
  setLatency(ms: number, scope?: RouteScope): this {
    const key = JSON.stringify(scope ?? null, (_k, v) => (v instanceof RegExp ? v.source : v));
    this.latencies.set(key, { ms, matches: scopeMatcher(scope) });
    return this;
  }

  /** Forgets recorded requests, pending faults and latencies (not the fake's data). */
  resetTraffic(): void {
    this.requests.length = 0;
    this.faults = [];
    this.latencies.clear();
  }

  /** Recorded requests matching a scope, e.g. `fake.requestsTo('POST /v1/messages')`. */
  requestsTo(scope: RouteScope): RecordedRequest[] {
    const matches = scopeMatcher(scope);
    return this.requests.filter(matches);
  }

  protected route(method: string, path: string, handler: RouteHandler): void {
    this.routes.push({ method, ...compilePath(path), handler });
  }

  /** The body of an injected failure when the test gives none, in the service's own error format. */
  protected abstract errorReply(status: number, req: RecordedRequest): FakeReply;

  /** Answer for a path no route knows. */
  protected notFound(req: RecordedRequest): FakeReply {
    return this.errorReply(404, req);
  }

  /** Headers the service sends on every response. */
  protected commonHeaders(_req: RecordedRequest): Record<string, string> {
    return {};
  }

  private addFault(action: FaultAction, n: number, scope?: RouteScope): this {
    if (!Number.isInteger(n) || n < 1) throw new Error(`fault count must be a positive integer, got ${n}`);
    this.faults.push({ ...action, remaining: n, matches: scopeMatcher(scope) });
    return this;
  }

  private takeFault(req: RecordedRequest, kinds: FaultAction['kind'][]): Fault | undefined {
    const fault = this.faults.find((f) => kinds.includes(f.kind) && f.remaining > 0 && f.matches(req));
    if (fault && --fault.remaining === 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      search: url.search,
      headers: req.headers,
      body: parseBody(rawBody),
      rawBody,
    };
    this.requests.push(recorded);

    const delay = this.takeFault(recorded, ['delay']);
    const latency = Math.max(0, ...[...this.latencies.values()].filter((l) => l.matches(recorded)).map((l) => l.ms));
    await this.sleep(latency + (delay?.kind === 'delay' ? delay.ms : 0));
    if (!this.server) return;

    const fault = this.takeFault(recorded, ['fail', 'drop']);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    let reply: FakeReply;
    if (fault?.kind === 'fail') {
      const fallback = this.errorReply(fault.reply.status, recorded);
      reply = {
        ...fault.reply,
        headers: { ...fallback.headers, ...fault.reply.headers },
        body: fault.reply.body ?? fallback.body,
      };
    } else {
      reply = await this.dispatch(recorded);
    }
    this.send(res, recorded, reply);
  }

  private async dispatch(req: RecordedRequest): Promise<FakeReply> {
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      const match = route.pattern.exec(req.path);
      if (!match) continue;
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
      try {
        return await route.handler(req, params);
      } catch (error) {
        // A fake's own bug must show up in the test, not hang it.
        const reply = this.errorReply(500, req);
        return {
          ...reply,
          headers: { ...reply.headers, 'x-fake-error': String((error as Error).message).slice(0, 200) },
        };
      }
    }
    return this.notFound(req);
  }

  private send(res: ServerResponse, req: RecordedRequest, reply: FakeReply): void {
    const headers: Record<string, string> = { ...this.commonHeaders(req), ...reply.headers };
    let payload: string | Buffer = '';
    if (reply.body !== undefined && reply.status !== 204) {
      const isBytes = Buffer.isBuffer(reply.body);
      const isText = typeof reply.body === 'string';
      payload = isBytes || isText ? (reply.body as string | Buffer) : JSON.stringify(reply.body);
      const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
      if (!hasType)
        headers['content-type'] = isBytes
          ? 'application/octet-stream'
          : isText
            ? 'text/plain; charset=utf-8'
            : 'application/json; charset=utf-8';
    }
    req.status = reply.status;
    if (res.destroyed) return;
    res.writeHead(reply.status, { ...headers, 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }
}
