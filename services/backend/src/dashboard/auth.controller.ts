// Sign-in with GitHub through the App's user-to-server OAuth: /api/auth/login sends the browser to
// GitHub with a one-time state, /api/auth/callback turns the code into a session, /logout ends it.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@kritik/server';
import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { LOGGER } from '../logger.provider.js';
import { DashboardAuth } from './dashboard.auth.js';
import { GitHubUserClient } from './github-user.client.js';
import { cookie, parseCookies, SESSION_COOKIE, STATE_COOKIE, sign, unsign } from './session.cookie.js';
import { SessionStore } from './session.store.js';

const STATE_TTL_SECONDS = 600;

@Controller('api/auth')
export class AuthController {
  private readonly settings: NonNullable<BackendConfig['dashboard']>;
  private readonly callbackUrl: string;

  constructor(
    @Inject(BACKEND_CONFIG) config: BackendConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly github: GitHubUserClient,
    private readonly sessions: SessionStore,
    private readonly auth: DashboardAuth,
  ) {
    if (!config.dashboard) throw new Error('the dashboard is not configured');
    this.settings = config.dashboard;
    this.callbackUrl = new URL('/api/auth/callback', config.dashboard.url).toString();
  }

  @Get('login')
  login(@Res() res: ServerResponse): void {
    const state = randomBytes(16).toString('base64url');
    res.setHeader('set-cookie', cookie(STATE_COOKIE, sign(this.settings.sessionSecret, state), STATE_TTL_SECONDS));
    redirect(res, this.github.authorizeUrl(this.callbackUrl, state));
  }

  @Get('callback')
  async callback(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'http://local').searchParams;
    const expected = unsign(this.settings.sessionSecret, parseCookies(req.headers.cookie).get(STATE_COOKIE));
    const clearState = cookie(STATE_COOKIE, '', 0);
    const state = query.get('state');
    const code = query.get('code');
    if (!expected || state !== expected || !code) {
      res.setHeader('set-cookie', clearState);
      return redirect(res, `/?signin=${query.get('error') === 'access_denied' ? 'denied' : 'failed'}`);
    }
    try {
      const token = await this.github.exchangeCode(code, this.callbackUrl);
      const login = await this.github.login(token);
      const access = await this.auth.access(token, login);
      const { id } = await this.sessions.create(
        { login, token, ...access, reposCheckedAt: Date.now() },
        this.settings.sessionTtlSeconds,
      );
      res.setHeader('set-cookie', [
        clearState,
        cookie(SESSION_COOKIE, sign(this.settings.sessionSecret, id), this.settings.sessionTtlSeconds),
      ]);
      this.log.info({ login, repositories: access.repos.length, teamAdmin: access.teamAdmin }, 'dashboard sign-in');
      redirect(res, '/');
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'dashboard sign-in failed');
      res.setHeader('set-cookie', clearState);
      redirect(res, '/?signin=failed');
    }
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const id = unsign(this.settings.sessionSecret, parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    if (id) await this.sessions.delete(id);
    res.setHeader('set-cookie', cookie(SESSION_COOKIE, '', 0));
    res.statusCode = 204;
    res.end();
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 302;
  res.setHeader('location', location);
  res.end();
}
