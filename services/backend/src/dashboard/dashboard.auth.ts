// Who is asking the dashboard API: a signed-in user (session cookie; sees the repositories they
// reach on the code host they signed in with, read again from it once the cache is old) or a
// machine with the API's bearer token (sees everything, as on /api/reviews).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Platform, SIGN_IN_LABELS } from '@kritik/core';
import type { VisibleRepositories } from '@kritik/server';
import { ForbiddenException, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { type IdentityProvider, IdentityProviders, UserTokenRefused } from './identity.provider.js';
import { parseCookies, SESSION_COOKIE, unsign } from './session.cookie.js';
import { type Access, type Session, SessionStore, type Tokens } from './session.store.js';

export type Principal =
  | { readonly kind: 'user'; readonly id: string; readonly session: Session; readonly admin: boolean }
  | { readonly kind: 'machine'; readonly admin: true };

const digest = (value: string) => createHash('sha256').update(value).digest();

/** A token this close to its expiry is refreshed before it is used. */
const REFRESH_MARGIN_MS = 60_000;

/** An admin list entry as `platform:login` (lower case): a bare login is GitHub's, as before GitLab. */
const adminKey = (entry: string): string =>
  (/^(github|gitlab):/i.test(entry) ? entry : `github:${entry}`).toLowerCase();

@Injectable()
export class DashboardAuth {
  private readonly settings: NonNullable<BackendConfig['dashboard']>;
  private readonly apiToken: Buffer | undefined;
  private readonly admins: Set<string>;

  /** Re-reads in flight by session id: GitLab rotates refresh tokens, so one session refreshes once at a time. */
  private readonly rereads = new Map<string, Promise<Session>>();

  constructor(
    @Inject(BACKEND_CONFIG) config: BackendConfig,
    private readonly sessions: SessionStore,
    private readonly providers: IdentityProviders,
  ) {
    if (!config.dashboard) throw new Error('the dashboard is not configured');
    this.settings = config.dashboard;
    this.apiToken = config.apiToken ? digest(config.apiToken) : undefined;
    this.admins = new Set(config.dashboard.admins.map(adminKey));
  }

  /**
   * A configured admin by platform and login (`gitlab:alice` is not GitHub's alice); team and
   * group members are admins through their session.
   */
  isAdmin(platform: Platform, login: string): boolean {
    return this.admins.has(`${platform}:${login}`.toLowerCase());
  }

  /** The principal of a request; 401 without a valid session or token. */
  async principal(req: IncomingMessage): Promise<Principal> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (bearer) {
      if (this.apiToken && timingSafeEqual(digest(bearer[1]!), this.apiToken)) return { kind: 'machine', admin: true };
      throw new UnauthorizedException('a valid bearer token is required');
    }
    const id = unsign(this.settings.sessionSecret, parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    let session = id ? await this.sessions.get(id) : undefined;
    if (!id || !session) throw new UnauthorizedException('sign in first');
    if (Date.now() - session.reposCheckedAt > this.settings.accessCacheSeconds * 1000) {
      const current = session;
      let reread = this.rereads.get(id);
      if (!reread) {
        reread = this.reread(id, current).finally(() => this.rereads.delete(id));
        this.rereads.set(id, reread);
      }
      session = await reread;
    }
    return { kind: 'user', id, session, admin: session.teamAdmin || this.isAdmin(session.platform, session.login) };
  }

  /** The repositories the user reaches and whether they are in the admin team or group. */
  async access(provider: IdentityProvider, token: string, login: string): Promise<Access> {
    const [repos, teamAdmin] = await Promise.all([provider.repositories(token), provider.isAdmin(token, login)]);
    return { repos, teamAdmin };
  }

  /**
   * Reads the user's access again with their token, refreshed first when it is about to expire or
   * once when refused; a token the host refuses for good ends the session.
   */
  private async reread(id: string, session: Session): Promise<Session> {
    const provider = this.providers.find(session.platform);
    const host = SIGN_IN_LABELS[session.platform];
    try {
      if (!provider) throw new UserTokenRefused(`sign-in with ${host} is no longer configured`);
      let tokens: Tokens = session;
      let refreshed = false;
      const refresh = async () => {
        if (!provider.refresh || !tokens.refreshToken || refreshed) return false;
        const next = await provider.refresh(tokens.refreshToken);
        tokens = { ...next, refreshToken: next.refreshToken ?? tokens.refreshToken };
        refreshed = true;
        return true;
      };
      if (tokens.tokenExpiresAt !== undefined && tokens.tokenExpiresAt - REFRESH_MARGIN_MS <= Date.now())
        await refresh();
      let access: Access;
      try {
        access = await this.access(provider, tokens.token, session.login);
      } catch (error) {
        // An access token revoked or expired early: a fresh one from the refresh token, once.
        if (!(error instanceof UserTokenRefused) || !(await refresh())) throw error;
        access = await this.access(provider, tokens.token, session.login);
      }
      const { token, refreshToken, tokenExpiresAt } = tokens;
      return await this.sessions.updateAccess(id, session, {
        ...access,
        token,
        ...(refreshToken ? { refreshToken } : {}),
        ...(tokenExpiresAt !== undefined ? { tokenExpiresAt } : {}),
      });
    } catch (error) {
      if (!(error instanceof UserTokenRefused)) throw error;
      await this.sessions.delete(id);
      throw new UnauthorizedException(`${host} no longer accepts this sign-in: sign in again`);
    }
  }

  /** Whether the principal may see a repository's reviews (`owner/name`, any case). */
  canSee(principal: Principal): (platform: Platform, repo: string) => boolean {
    if (principal.kind === 'machine') return () => true;
    const { platform: own, repos: list } = principal.session;
    const repos = new Set(list.map((r) => r.toLowerCase()));
    // A session sees its own code host's repositories: another host's with the same path is another repository.
    return (platform, repo) => platform === own && repos.has(repo.toLowerCase());
  }

  /** Where the principal's reviews can be, so a history page walks only those repositories' indexes. */
  visible(principal: Principal): VisibleRepositories {
    if (principal.kind === 'machine') return 'all';
    const { platform } = principal.session;
    return principal.session.repos.map((repo) => ({ platform, repo }));
  }

  /** State-changing requests of a session carry its CSRF token in a header a cross-site form cannot set. */
  checkCsrf(principal: Principal, header: string | string[] | undefined): void {
    if (principal.kind === 'machine') return;
    const given = Buffer.from(typeof header === 'string' ? header : '');
    const expected = Buffer.from(principal.session.csrf);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new ForbiddenException('missing or wrong CSRF token');
  }

  requireAdmin(principal: Principal): void {
    // Not found rather than forbidden: the page's existence is not a non-admin's business.
    if (!principal.admin) throw new NotFoundException();
  }
}
