// The code host as the worker reaches it: the GitHub App (installation tokens, pull requests,
// comments) and the check runs it creates and concludes. The App's private key stays in here.
import { Module } from '@nestjs/common';
import type { WorkerConfig } from '../config/worker.config.js';
import { WORKER_CONFIG } from '../scheduling/tokens.js';
import { CheckRuns } from './check-runs.js';
import { GitHubAppClient } from './github-app.client.js';

@Module({
  providers: [
    {
      provide: GitHubAppClient,
      inject: [WORKER_CONFIG],
      useFactory: ({ github }: WorkerConfig) =>
        new GitHubAppClient({ appId: github.appId, privateKey: github.privateKey, apiUrl: github.apiUrl }),
    },
    CheckRuns,
  ],
  exports: [GitHubAppClient, CheckRuns],
})
export class CodeHostModule {}
