// The code hosts as the worker reaches them, one per platform configured: the GitHub App
// (installation tokens, check runs; its private key stays in here) and GitLab (the access token
// from the worker's Secret, commit statuses). Everything else asks CodeHosts for a review's platform.
import { Module } from '@nestjs/common';
import { type CodeHost, CodeHosts } from '../code-host/code-host.js';
import { gitHubApp, gitLabInstance, type WorkerConfig } from '../config/worker.config.js';
import { GitLabClient } from '../gitlab/gitlab.client.js';
import { GitLabCodeHost } from '../gitlab/gitlab.code-host.js';
import { WORKER_CONFIG } from '../scheduling/tokens.js';
import { CheckRuns } from './check-runs.js';
import { GitHubCodeHost } from './github.code-host.js';
import { GitHubAppClient } from './github-app.client.js';

/** Closes the clients' pooled connections at shutdown. */
class ConfiguredCodeHosts extends CodeHosts {
  constructor(
    hosts: readonly CodeHost[],
    private readonly clients: readonly { onApplicationShutdown(): void }[],
  ) {
    super(hosts);
  }

  onApplicationShutdown(): void {
    for (const client of this.clients) client.onApplicationShutdown();
  }
}

@Module({
  providers: [
    {
      provide: CodeHosts,
      inject: [WORKER_CONFIG],
      useFactory: (config: WorkerConfig) => {
        const hosts: CodeHost[] = [];
        const clients: { onApplicationShutdown(): void }[] = [];
        const app = gitHubApp(config);
        if (app) {
          const client = new GitHubAppClient(app);
          clients.push(client);
          hosts.push(new GitHubCodeHost(client, new CheckRuns(client)));
        }
        const gitlab = gitLabInstance(config);
        if (gitlab) {
          const client = new GitLabClient(gitlab);
          clients.push(client);
          hosts.push(new GitLabCodeHost(client, gitlab.token));
        }
        return new ConfiguredCodeHosts(hosts, clients);
      },
    },
  ],
  exports: [CodeHosts],
})
export class CodeHostModule {}
