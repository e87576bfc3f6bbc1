// The code hosts a dashboard user signs in with, behind one interface: where the browser goes,
// code for tokens, who the user is, what they reach and whether they are an admin by group.
import { PLATFORMS, type Platform } from '@kritik/core';
import { Inject, Injectable } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { GitHubUserClient } from './github-user.client.js';
import { GitLabUserClient } from './gitlab-user.client.js';

/** A user's token as the code host issued it; GitLab's expire (2 h) and come with a refresh token. */
export interface UserTokens {
  readonly token: string;
  readonly refreshToken?: string | undefined;
  /** Epoch milliseconds; absent when the host did not say. */
  readonly tokenExpiresAt?: number | undefined;
}

export interface IdentityProvider {
  readonly platform: Platform;
  /** Where the host's pages live (GitHub Enterprise Server or a self-managed GitLab: their own). */
  readonly webUrl: string;
  /** Where the browser goes to sign in; `codeChallenge` is PKCE's S256 challenge (hosts that take it). */
  authorizeUrl(redirectUri: string, state: string, codeChallenge: string): string;
  exchangeCode(code: string, redirectUri: string, codeVerifier: string): Promise<UserTokens>;
  /** New tokens for a refresh token; absent where the host's tokens are not refreshed. */
  refresh?(refreshToken: string): Promise<UserTokens>;
  /** The login (GitHub) or username (GitLab) the token belongs to. */
  user(token: string): Promise<string>;
  /** The repositories whose reviews the user may see, by full name, sorted. */
  repositories(token: string): Promise<string[]>;
  /** Member of the configured admin team (GitHub) or group (GitLab); false when none is configured. */
  isAdmin(token: string, login: string): Promise<boolean>;
}

/** The host refused the user's token (revoked or expired, and no refresh helped): the session ends. */
export class UserTokenRefused extends Error {}

/** Pages followed per list at most (100 entries each): a user's list is bounded at 1,000 entries. */
export const MAX_PAGES = 10;

/** Each configured sign-in provider; the one place that tells GitHub's sign-in from GitLab's. */
function identityProviders(config: BackendConfig): Map<Platform, IdentityProvider> {
  const d = config.dashboard;
  const providers = new Map<Platform, IdentityProvider>();
  if (d?.github) providers.set('github', new GitHubUserClient(d.github, d.adminTeam));
  if (d?.gitlab) providers.set('gitlab', new GitLabUserClient(config.gitlab.url, d.gitlab));
  return providers;
}

@Injectable()
export class IdentityProviders {
  private readonly providers: Map<Platform, IdentityProvider>;

  constructor(@Inject(BACKEND_CONFIG) config: BackendConfig) {
    this.providers = identityProviders(config);
  }

  /** The provider of a configured platform; undefined for an unknown or unconfigured one. */
  find(platform: string): IdentityProvider | undefined {
    return (PLATFORMS as readonly string[]).includes(platform) ? this.providers.get(platform as Platform) : undefined;
  }

  get(platform: Platform): IdentityProvider {
    const provider = this.providers.get(platform);
    if (!provider) throw new Error(`sign-in with ${platform} is not configured`);
    return provider;
  }

  /** Configured platforms, in PLATFORMS order. */
  platforms(): Platform[] {
    return PLATFORMS.filter((p) => this.providers.has(p));
  }
}
