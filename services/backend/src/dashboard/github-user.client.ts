// GitHub as the signed-in user sees it: the App's user-to-server OAuth (code for token), who the
// token belongs to, and the repositories the user reaches through the App's installations.
import { z } from 'zod';
import type { BackendConfig } from '../config/backend.config.js';
import { type IdentityProvider, MAX_PAGES, UserTokenRefused, type UserTokens } from './identity.provider.js';

const tokenReply = z.union([
  z.object({ access_token: z.string().min(1) }).passthrough(),
  z.object({ error: z.string(), error_description: z.string().optional() }).passthrough(),
]);
const userReply = z.object({ login: z.string().min(1) }).passthrough();
const installationsReply = z.object({ installations: z.array(z.object({ id: z.number().int() }).passthrough()) });
const repositoriesReply = z.object({ repositories: z.array(z.object({ full_name: z.string() }).passthrough()) });

const teamMembership = z.object({ state: z.string() }).passthrough();

/** GitHub answered 404: the thing does not exist or the user may not see it. */
class GitHubNotFound extends Error {}

type Settings = NonNullable<NonNullable<BackendConfig['dashboard']>['github']>;

/**
 * GitHub's user-to-server tokens are used as issued: without PKCE (state alone, as GitHub Apps
 * have done) and not refreshed (they outlive the default session; a refused one ends it).
 */
export class GitHubUserClient implements IdentityProvider {
  readonly platform = 'github';

  constructor(
    private readonly github: Settings,
    /** `org/team-slug` whose members are admins. */
    private readonly adminTeam: string | undefined,
  ) {}

  get webUrl(): string {
    return this.github.webUrl;
  }

  authorizeUrl(redirectUri: string, state: string): string {
    const url = new URL('/login/oauth/authorize', this.github.webUrl);
    url.searchParams.set('client_id', this.github.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('state', state);
    return url.toString();
  }

  async exchangeCode(code: string, redirectUri: string): Promise<UserTokens> {
    const response = await fetch(new URL('/login/oauth/access_token', this.github.webUrl), {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: this.github.clientId,
        client_secret: this.github.clientSecret,
        code,
        redirect_uri: redirectUri,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`GitHub answered ${response.status} to the code exchange`);
    const reply = tokenReply.parse(await response.json());
    if ('error' in reply) throw new Error(`GitHub refused the sign-in: ${reply.error}`);
    return { token: reply.access_token };
  }

  async user(token: string): Promise<string> {
    return userReply.parse(await this.get(token, '/user')).login;
  }

  /** Whether `login` is an active member of the admin team (`org/team-slug`). */
  async isAdmin(token: string, login: string): Promise<boolean> {
    if (!this.adminTeam) return false;
    const [org, slug] = this.adminTeam.split('/') as [string, string];
    const path = `/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(slug)}/memberships/${encodeURIComponent(login)}`;
    try {
      return teamMembership.parse(await this.get(token, path)).state === 'active';
    } catch (error) {
      if (error instanceof GitHubNotFound) return false;
      throw error;
    }
  }

  /** `owner/name` of every repository the user reaches through the App's installations. */
  async repositories(token: string): Promise<string[]> {
    const installations = await this.pages(
      token,
      '/user/installations',
      (b) => installationsReply.parse(b).installations,
    );
    const repos = new Set<string>();
    for (const { id } of installations) {
      const list = await this.pages(
        token,
        `/user/installations/${id}/repositories`,
        (b) => repositoriesReply.parse(b).repositories,
      );
      for (const r of list) repos.add(r.full_name);
    }
    return [...repos].sort();
  }

  private async pages<T>(token: string, path: string, items: (body: unknown) => T[]): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const batch = items(await this.get(token, `${path}?per_page=100&page=${page}`));
      out.push(...batch);
      if (batch.length < 100) break;
    }
    return out;
  }

  private async get(token: string, path: string): Promise<unknown> {
    const base = this.github.apiUrl.replace(/\/$/, '');
    const response = await fetch(`${base}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      },
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 401) throw new UserTokenRefused('GitHub refused the user token');
    if (response.status === 404) throw new GitHubNotFound(`GitHub answered 404 to GET ${path.split('?')[0]}`);
    if (!response.ok) throw new Error(`GitHub answered ${response.status} to GET ${path.split('?')[0]}`);
    return response.json();
  }
}
