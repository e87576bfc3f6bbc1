// A tiny HTTP proxy in front of the test kube-apiserver that can answer chosen requests with an
// error (429 with Retry-After, 503) or cut open watches, so the worker's client meets the faults
// a busy real cluster produces. The harness runs the apiserver without priority and fairness, so
// throttling cannot be provoked there directly.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

interface Fault {
  remaining: number;
  status: number;
  retryAfterSeconds?: number;
  matches: (method: string, path: string) => boolean;
}

export class ApiProxy {
  readonly requests: ProxiedRequest[] = [];
  private server: Server | undefined;
  private readonly faults: Fault[] = [];
  private readonly watches = new Set<Socket>();
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly upstream: string,
    private readonly ca: Buffer,
  ) {}

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answers the next `n` requests matching `method` and `path` with `status`. */
  failNext(n: number, status: number, method: string, path: RegExp, retryAfterSeconds?: number): this {
    this.faults.push({
      remaining: n,
      status,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      matches: (m, p) => m === method && path.test(p),
    });
    return this;
  }

  /** Cuts every open watch connection, as a restarting apiserver or a load balancer would. */
  dropWatches(): number {
    const n = this.watches.size;
    for (const socket of this.watches) socket.destroy();
    this.watches.clear();
    return n;
  }

  /** `kubeConfig` (a token user) pointed at this proxy. */
  kubeConfigThrough(kubeConfig: KubeConfig): KubeConfig {
    const user = kubeConfig.getCurrentUser();
    if (!user?.token) throw new Error('the proxy forwards bearer tokens only');
    const proxied = new KubeConfig();
    proxied.loadFromOptions({
      clusters: [{ name: 'proxy', server: this.url, skipTLSVerify: true }],
      users: [{ name: user.name, token: user.token }],
      contexts: [{ name: 'proxy', cluster: 'proxy', user: user.name }],
      currentContext: 'proxy',
    });
    return proxied;
  }

  private forward(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = path.split('?')[0]!;
    const fault = this.faults.find((f) => f.remaining > 0 && f.matches(method, pathname));
    if (fault) {
      fault.remaining--;
      req.resume();
      this.requests.push({ method, path: pathname, status: fault.status });
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {}),
      });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          code: fault.status,
          message: 'injected by the test proxy',
        }),
      );
      return;
    }
    const upstream = new URL(path, this.upstream);
    const out = httpsRequest(
      upstream,
      { method, headers: { ...req.headers, host: upstream.host }, ca: this.ca },
      (answer) => {
        this.requests.push({ method, path: pathname, status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (/[?&]watch=(true|1)/.test(path)) {
          const socket = req.socket;
          this.watches.add(socket);
          socket.on('close', () => this.watches.delete(socket));
        }
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  }
}
