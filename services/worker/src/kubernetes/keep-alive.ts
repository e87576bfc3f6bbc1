// API clients that reuse their connections. client-node 1.x builds a new https.Agent for every
// request, so each call pays a TCP and TLS handshake; under a burst of reviews that handshake,
// not the API server, sets the pace. The kubeconfig still authenticates every request (a rotated
// ServiceAccount token is picked up); only the connection pool is shared.
import { type AgentOptions, Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { KubeConfig, RequestContext, SecurityAuthentication } from '@kubernetes/client-node';
import { createConfiguration, ServerConfiguration } from './client-node.js';

export class KeepAliveAuthentication implements SecurityAuthentication {
  private agent: HttpAgent | HttpsAgent | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly maxSockets = 64,
  ) {}

  getName(): string {
    return 'kritik-keep-alive';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kubeConfig.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    if (!fresh) return;
    // The first request's agent carries the TLS settings (CA, client certificate) of the kubeconfig.
    this.agent ??= this.pooled(fresh);
    context.setAgent(this.agent);
  }

  /** An API client of `type` for the kubeconfig's current cluster, on the shared pool. */
  makeApiClient<T>(type: new (configuration: ReturnType<typeof createConfiguration>) => T): T {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return new type(
      createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: this } }),
    );
  }

  /** Closes idle pooled connections (for shutdown). */
  destroy(): void {
    this.agent?.destroy();
  }

  private pooled(fresh: HttpAgent | HttpsAgent): HttpAgent | HttpsAgent {
    const options: AgentOptions = {
      ...(fresh as { options?: AgentOptions }).options,
      keepAlive: true,
      maxSockets: this.maxSockets,
    };
    return fresh instanceof HttpsAgent ? new HttpsAgent(options) : new HttpAgent(options);
  }
}
