// Which code host a review talks to, decided once from the platform (the payload's, or the CLI's
// URL): the only place that knows GitHub and GitLab apart.
import type { Platform } from '@kritik/core';
import type { CodeHost } from './code-host.js';
import { createOctokit, OctokitGitHub } from './github.js';
import { createGitLab, GitLabHost } from './gitlab.js';

/** Where a code host is and the token for it. */
export interface HostSettings {
  platform: Platform;
  token: string;
  /** GitHub: its REST API URL (`https://api.github.com`); GitLab: the instance's base URL. */
  url: string;
}

export interface HostTuning {
  /** Base of the retry backoff (ms); tests make it small. */
  retryBaseMs?: number;
  warn?: (message: string) => void;
}

export function createCodeHost(settings: HostSettings, tuning: HostTuning = {}): CodeHost {
  const common = {
    token: settings.token,
    ...(tuning.retryBaseMs !== undefined ? { retryBaseMs: tuning.retryBaseMs } : {}),
    ...(tuning.warn ? { warn: tuning.warn } : {}),
  };
  switch (settings.platform) {
    case 'github':
      return new OctokitGitHub(createOctokit({ ...common, baseUrl: settings.url }));
    case 'gitlab':
      return new GitLabHost(createGitLab({ ...common, url: settings.url }));
  }
}
