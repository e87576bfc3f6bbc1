// Server-side apply against a real kube-apiserver, in dry-run with strict field validation, so
// rendered manifests meet the API server's own schemas, defaults and admission (PodSecurity).
import { request } from 'node:https';
import type { Manifest } from './custom-resources.js';

export interface ApiResource {
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ApplyResult {
  readonly ok: boolean;
  readonly status: number;
  /** The API server's message (failure) or its warnings (success), e.g. PodSecurity violations. */
  readonly messages: string[];
}

interface Reply {
  status: number;
  body: string;
  warnings: string[];
}

const FIELD_MANAGER = 'kritik-validate';

export class ServerSideApply {
  private resources: Map<string, ApiResource> | undefined;

  constructor(
    private readonly server: string,
    private readonly ca: Buffer,
    private readonly token: string,
  ) {}

  private call(method: string, path: string, body?: string): Promise<Reply> {
    return new Promise((resolveCall, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/apply-patch+yaml';
      const req = request(new URL(path, this.server), { method, ca: this.ca, headers, timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const warning = res.headers.warning;
          const warnings = (Array.isArray(warning) ? warning : warning ? [warning] : []).map((w) =>
            // `299 - "text"`: keep the text.
            w.replace(/^\d{3} \S+ "(.*)"$/, '$1').replace(/\\"/g, '"'),
          );
          resolveCall({ status: res.statusCode ?? 0, body: text, warnings });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private async getJson<T>(path: string): Promise<T> {
    const reply = await this.call('GET', path);
    if (reply.status !== 200) throw new Error(`GET ${path}: HTTP ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body) as T;
  }

  /** apiVersion+kind -> resource, from the server's discovery documents. */
  private async discover(): Promise<Map<string, ApiResource>> {
    if (this.resources) return this.resources;
    type ResourceList = { groupVersion: string; resources: { name: string; kind: string; namespaced: boolean }[] };
    const groups = await this.getJson<{ groups: { versions: { groupVersion: string }[] }[] }>('/apis');
    const paths = ['/api/v1', ...groups.groups.flatMap((g) => g.versions.map((v) => `/apis/${v.groupVersion}`))];
    const lists = await Promise.all(paths.map((path) => this.getJson<ResourceList>(path)));
    const resources = new Map<string, ApiResource>();
    for (const list of lists) {
      for (const resource of list.resources) {
        if (resource.name.includes('/')) continue;
        resources.set(`${list.groupVersion} ${resource.kind}`, {
          plural: resource.name,
          namespaced: resource.namespaced,
        });
      }
    }
    this.resources = resources;
    return resources;
  }

  /** Waits until the CustomResourceDefinition `name` is Established (its resource is served). */
  async waitEstablished(name: string, timeoutMs: number): Promise<void> {
    type Crd = { status?: { conditions?: { type: string; status: string }[] } };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const crd = await this.getJson<Crd>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
      if (Date.now() > deadline) throw new Error(`the CRD ${name} was not Established in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Whether the server serves this apiVersion and kind at all. */
  async serves(manifest: Manifest): Promise<boolean> {
    return (await this.discover()).has(`${manifest.apiVersion} ${manifest.kind}`);
  }

  /**
   * Applies `manifest` (server-side apply, strict field validation). With `dryRun` nothing is
   * stored, but every validation and admission step runs. Namespaced objects without a
   * namespace go to `defaultNamespace`. Fields applied earlier by the same `fieldManager` and
   * missing now are removed, as with any server-side apply.
   */
  async apply(
    manifest: Manifest,
    options: { dryRun: boolean; defaultNamespace: string; fieldManager?: string },
  ): Promise<ApplyResult> {
    const resource = (await this.discover()).get(`${manifest.apiVersion} ${manifest.kind}`);
    if (!resource) {
      return {
        ok: false,
        status: 404,
        messages: [`the API server does not serve ${manifest.apiVersion} ${manifest.kind}`],
      };
    }
    const apiVersion = String(manifest.apiVersion);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const name = encodeURIComponent(String(manifest.metadata?.name));
    const namespace = String(manifest.metadata?.namespace ?? options.defaultNamespace);
    const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const fieldManager = options.fieldManager ?? FIELD_MANAGER;
    const query = new URLSearchParams({ fieldManager, fieldValidation: 'Strict', force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    const body = resource.namespaced
      ? { ...manifest, metadata: { ...manifest.metadata, namespace } }
      : { ...manifest, metadata: { ...manifest.metadata, namespace: undefined } };
    const reply = await this.call('PATCH', `${base}${scope}/${resource.plural}/${name}?${query}`, JSON.stringify(body));
    if (reply.status >= 200 && reply.status < 300) return { ok: true, status: reply.status, messages: reply.warnings };
    let message = reply.body;
    try {
      message = (JSON.parse(reply.body) as { message?: string }).message ?? reply.body;
    } catch {
      // Not a Status object: keep the raw body.
    }
    return { ok: false, status: reply.status, messages: [message, ...reply.warnings] };
  }
}
