// GitLab as the signed-in user sees it: the OAuth2 authorization-code flow with PKCE against the
// instance of GITLAB_URL (scope `read_api`), the token's refresh, who the user is, the projects
// they are a member of with at least Reporter access, and whether they are in the admin group.
import { DEFAULT_GITLAB_URL } from '@kritik/core';
import { z } from 'zod';
import type { BackendConfig } from '../config/backend.config.js';
import { type IdentityProvider, MAX_PAGES, UserTokenRefused, type UserTokens } from './identity.provider.js';

type Settings = NonNullable<NonNullable<BackendConfig['dashboard']>['gitlab']>;

/**
 * The least scope that lists a user's projects and reads a group's members: `read_user` reaches
 * only /user, `read_api` reads the whole API and writes nothing (ADR 0039).
 */
export const GITLAB_SIGN_IN_SCOPE = 'read_api';
/** Reporter: can see merge requests of a private project (Guest cannot). */
export const GITLAB_MIN_ACCESS_LEVEL = 20;

const tokenReply = z
  .object({
    access_token: z.string().min(1),
    refresh_token: z.string().min(1).optional(),
    expires_in: z.number().int().positive().optional(),
  })
  .passthrough();
const errorReply = z.object({ error: z.string(), error_description: z.string().optional() }).passthrough();
const userReply = z.object({ id: z.number().int(), username: z.string().min(1) }).passthrough();
const projectsReply = z.array(z.object({ path_with_namespace: z.string().min(1) }).passthrough());
const memberReply = z.object({ state: z.string() }).passthrough();

class GitLabNotFound extends Error {}

export class GitLabUserClient implements IdentityProvider {
  readonly platform = 'gitlab';
  private readonly base: string;

  constructor(
    url: string | undefined,
    private readonly settings: Settings,
    private readonly now: () => number = Date.now,
  ) {
    this.base = (url ?? DEFAULT_GITLAB_URL).replace(/\/+$/, '');
  }

  get webUrl(): string {
    return this.base;
  }

  authorizeUrl(redirectUri: string, state: string, codeChallenge: string): string {
    const url = new URL(`${this.base}/oauth/authorize`);
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', GITLAB_SIGN_IN_SCOPE);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  }

  exchangeCode(code: string, redirectUri: string, codeVerifier: string): Promise<UserTokens> {
    return this.token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: codeVerifier,
    });
  }

  /** GitLab rotates the refresh token: the old one stops working once this answers. */
  refresh(refreshToken: string): Promise<UserTokens> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  async user(token: string): Promise<string> {
    return userReply.parse(await this.get(token, '/user')).username;
  }

  /** Full paths of the projects the user is a member of with at least Reporter access. */
  async repositories(token: string): Promise<string[]> {
    const paths = new Set<string>();
    for (let page = 1; page <= MAX_PAGES; page++) {
      const query = `membership=true&min_access_level=${GITLAB_MIN_ACCESS_LEVEL}&simple=true&per_page=100&page=${page}`;
      const batch = projectsReply.parse(await this.get(token, `/projects?${query}`));
      for (const p of batch) paths.add(p.path_with_namespace);
      if (batch.length < 100) break;
    }
    return [...paths].sort();
  }

  /** A member of the admin group (directly or through a parent group), by the user's id. */
  async isAdmin(token: string): Promise<boolean> {
    const group = this.settings.adminGroup;
    if (!group) return false;
    const { id } = userReply.parse(await this.get(token, '/user'));
    try {
      const member = await this.get(token, `/groups/${encodeURIComponent(group)}/members/all/${id}`);
      return memberReply.parse(member).state === 'active';
    } catch (error) {
      if (error instanceof GitLabNotFound) return false;
      throw error;
    }
  }

  private async token(grant: Record<string, string>): Promise<UserTokens> {
    const requestedAt = this.now();
    const response = await fetch(`${this.base}/oauth/token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: this.settings.clientId, client_secret: this.settings.clientSecret, ...grant }),
      signal: AbortSignal.timeout(10_000),
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = errorReply.safeParse(body);
      const reason = error.success ? error.data.error : `HTTP ${response.status}`;
      // A refused code or refresh token (invalid_grant) ends the sign-in; a refused client is our fault.
      if (error.success && error.data.error === 'invalid_grant')
        throw new UserTokenRefused(`GitLab refused the ${grant.grant_type} grant: ${reason}`);
      throw new Error(`GitLab answered ${response.status} to the token request: ${reason}`);
    }
    const reply = tokenReply.parse(body);
    return {
      token: reply.access_token,
      refreshToken: reply.refresh_token,
      tokenExpiresAt: reply.expires_in === undefined ? undefined : requestedAt + reply.expires_in * 1000,
    };
  }

  private async get(token: string, path: string): Promise<unknown> {
    const response = await fetch(`${this.base}/api/v4${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    const name = path.split('?')[0];
    if (response.status === 401) throw new UserTokenRefused('GitLab refused the user token');
    if (response.status === 404) throw new GitLabNotFound(`GitLab answered 404 to GET ${name}`);
    if (!response.ok) throw new Error(`GitLab answered ${response.status} to GET ${name}`);
    return response.json();
  }
}
