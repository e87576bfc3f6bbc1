// Who is asking the dashboard API: a signed-in user (session cookie; sees the repositories they
// reach through the App's installations, read again from GitHub once the cache is old) or a
// machine with the API's bearer token (sees everything, as on /api/reviews).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Platform } from '@kritik/core';
import type { VisibleRepositories } from '@kritik/server';
import { ForbiddenException, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { GitHubUserClient, GitHubUserUnauthorized } from './github-user.client.js';
import { parseCookies, SESSION_COOKIE, unsign } from './session.cookie.js';
import { type Access, type Session, SessionStore } from './session.store.js';

export type Principal =
  | { readonly kind: 'user'; readonly id: string; readonly session: Session; readonly admin: boolean }
  | { readonly kind: 'machine'; readonly admin: true };

const digest = (value: string) => createHash('sha256').update(value).digest();

@Injectable()
export class DashboardAuth {
  private readonly settings: NonNullable<BackendConfig['dashboard']>;
  private readonly apiToken: Buffer | undefined;
  private readonly admins: Set<string>;

  constructor(
    @Inject(BACKEND_CONFIG) config: BackendConfig,
    private readonly sessions: SessionStore,
    private readonly github: GitHubUserClient,
  ) {
    if (!config.dashboard) throw new Error('the dashboard is not configured');
    this.settings = config.dashboard;
    this.apiToken = config.apiToken ? digest(config.apiToken) : undefined;
    this.admins = new Set(config.dashboard.admins.map((a) => a.toLowerCase()));
  }

  /** A configured admin by login (team members are admins through their session). */
  isAdmin(login: string): boolean {
    return this.admins.has(login.toLowerCase());
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
      try {
        session = await this.sessions.updateAccess(id, session, await this.access(session.token, session.login));
      } catch (error) {
        if (!(error instanceof GitHubUserUnauthorized)) throw error;
        await this.sessions.delete(id);
        throw new UnauthorizedException('GitHub no longer accepts this sign-in: sign in again');
      }
    }
    return { kind: 'user', id, session, admin: session.teamAdmin || this.isAdmin(session.login) };
  }

  /** The repositories the user reaches and, with an admin team configured, whether they are in it. */
  async access(token: string, login: string): Promise<Access> {
    const team = this.settings.adminTeam;
    const [repos, teamAdmin] = await Promise.all([
      this.github.repositories(token),
      team ? this.github.inTeam(token, team, login) : false,
    ]);
    return { repos, teamAdmin };
  }

  /** Whether the principal may see a repository's reviews (`owner/name`, any case). */
  canSee(principal: Principal): (platform: Platform, repo: string) => boolean {
    if (principal.kind === 'machine') return () => true;
    const repos = new Set(principal.session.repos.map((r) => r.toLowerCase()));
    // Sessions are GitHub's: a GitLab project with the same path is another repository.
    return (platform, repo) => platform === 'github' && repos.has(repo.toLowerCase());
  }

  /** Where the principal's reviews can be, so a history page walks only those repositories' indexes. */
  visible(principal: Principal): VisibleRepositories {
    if (principal.kind === 'machine') return 'all';
    return principal.session.repos.map((repo) => ({ platform: 'github', repo }));
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
