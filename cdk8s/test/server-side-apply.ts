// Server-side apply of one rendered object to a real kube-apiserver with strict field validation
// (optionally dry-run): what `kubectl apply --server-side --dry-run=server` checks, without kubectl.
import { request } from 'node:https';
import { type KubeConfig, type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';

/** Exposes the client's discovery-backed URL of an object (protected in client-node). */
class ObjectPaths extends KubernetesObjectApi {
  pathOf(spec: KubernetesObject): Promise<string> {
    return this.specUriPath(structuredClone(spec), 'patch');
  }
}

export interface ApplyOutcome {
  readonly ok: boolean;
  readonly status: number;
  /** The API server's message on failure. */
  readonly message: string;
  /** Warning headers, e.g. PodSecurity `would violate` or unknown fields. */
  readonly warnings: string[];
}

export class ServerSideApply {
  private readonly paths: ObjectPaths;

  constructor(private readonly kc: KubeConfig) {
    this.paths = kc.makeApiClient(ObjectPaths);
  }

  async apply(manifest: KubernetesObject, options: { dryRun: boolean }): Promise<ApplyOutcome> {
    const query = new URLSearchParams({ fieldManager: 'kritik-chart-test', fieldValidation: 'Strict', force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(`${await this.paths.pathOf(manifest)}?${query}`, server);
    const httpsOptions: Parameters<typeof request>[1] = {
      method: 'PATCH',
      headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json' },
      timeout: 30_000,
    };
    await this.kc.applyToHTTPSOptions(httpsOptions);
    return new Promise((resolveApply, reject) => {
      const req = request(url, httpsOptions, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const header = res.headers.warning;
          const warnings = (Array.isArray(header) ? header : header ? [header] : []).map((w) =>
            w.replace(/^\d{3} \S+ "(.*)"$/, '$1'),
          );
          let message = '';
          if (status >= 300) {
            try {
              message = (JSON.parse(body) as { message?: string }).message ?? body;
            } catch {
              message = body;
            }
          }
          resolveApply({ ok: status >= 200 && status < 300, status, message, warnings });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`PATCH ${url.pathname} timed out`)));
      req.on('error', reject);
      req.end(JSON.stringify(manifest));
    });
  }
}
