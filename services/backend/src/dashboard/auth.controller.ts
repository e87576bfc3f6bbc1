// Sign-in with a code host (GitHub through the App's user-to-server OAuth, GitLab through an OAuth
// application): <login> sends the browser to the host with a one-time state (and PKCE challenge),
// <callback> turns the code into a session, /logout ends it, /providers lists the configured hosts.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Platform, SIGN_IN_LABELS, SIGN_IN_PATHS, type SignInProviders } from '@kritik/core';
import type { Logger } from '@kritik/server';
import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { LOGGER } from '../logger.provider.js';
import { DashboardAuth } from './dashboard.auth.js';
import { type IdentityProvider, IdentityProviders } from './identity.provider.js';
import { cookie, parseCookies, SESSION_COOKIE, STATE_COOKIE, sign, unsign } from './session.cookie.js';
import { SessionStore } from './session.store.js';

const STATE_TTL_SECONDS = 600;
/** Separates the state cookie's parts; absent from base64url and platform names. */
const SEP = '~';

@Controller('api/auth')
export class AuthController {
  private readonly settings: NonNullable<BackendConfig['dashboard']>;

  constructor(
    @Inject(BACKEND_CONFIG) config: BackendConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly identities: IdentityProviders,
    private readonly sessions: SessionStore,
    private readonly auth: DashboardAuth,
  ) {
    if (!config.dashboard) throw new Error('the dashboard is not configured');
    this.settings = config.dashboard;
  }

  /** Unauthenticated: the sign-in screen shows one button per configured host. */
  @Get('providers')
  providers(): SignInProviders {
    return {
      providers: this.identities
        .platforms()
        .map((platform) => ({ platform, label: SIGN_IN_LABELS[platform], login: SIGN_IN_PATHS[platform].login })),
    };
  }

  /** GitHub's first paths, which GitHub Apps registered as their callback URL. */
  @Get('login')
  loginGitHub(@Res() res: ServerResponse): void {
    this.login('github', res);
  }

  @Get('callback')
  callbackGitHub(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.callback('github', req, res);
  }

  @Get(':platform/login')
  loginAt(@Param('platform') platform: string, @Res() res: ServerResponse): void {
    this.login(this.provider(platform).platform, res);
  }

  @Get(':platform/callback')
  callbackAt(
    @Param('platform') platform: string,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const { platform: known } = this.provider(platform);
    // Only the registered callback answers: GitHub's is /api/auth/callback.
    if (SIGN_IN_PATHS[known].callback !== `/api/auth/${known}/callback`) throw new NotFoundException();
    return this.callback(known, req, res);
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

  /** 404 for a host that is unknown or whose sign-in is not configured. */
  private provider(platform: string): IdentityProvider {
    const provider = this.identities.find(platform);
    if (!provider) throw new NotFoundException();
    return provider;
  }

  private callbackUrl(platform: Platform): string {
    return new URL(SIGN_IN_PATHS[platform].callback, this.settings.url).toString();
  }

  private login(platform: Platform, res: ServerResponse): void {
    const provider = this.provider(platform);
    const state = randomBytes(16).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    // The state cookie binds state, host and PKCE verifier to this browser; it never leaves it but signed.
    const value = [platform, state, verifier].join(SEP);
    res.setHeader('set-cookie', cookie(STATE_COOKIE, sign(this.settings.sessionSecret, value), STATE_TTL_SECONDS));
    redirect(res, provider.authorizeUrl(this.callbackUrl(platform), state, challenge));
  }

  private async callback(platform: Platform, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.provider(platform);
    const query = new URL(req.url ?? '/', 'http://local').searchParams;
    const signed = unsign(this.settings.sessionSecret, parseCookies(req.headers.cookie).get(STATE_COOKIE));
    const [expectedPlatform, expected, verifier] = (signed ?? '').split(SEP);
    const clearState = cookie(STATE_COOKIE, '', 0);
    const state = query.get('state');
    const code = query.get('code');
    if (expectedPlatform !== platform || !expected || !verifier || state !== expected || !code) {
      res.setHeader('set-cookie', clearState);
      return redirect(res, `/?signin=${query.get('error') === 'access_denied' ? 'denied' : 'failed'}`);
    }
    try {
      const tokens = await provider.exchangeCode(code, this.callbackUrl(platform), verifier);
      const login = await provider.user(tokens.token);
      const access = await this.auth.access(provider, tokens.token, login);
      const { id } = await this.sessions.create(
        {
          platform,
          login,
          token: tokens.token,
          ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
          ...(tokens.tokenExpiresAt !== undefined ? { tokenExpiresAt: tokens.tokenExpiresAt } : {}),
          ...access,
          reposCheckedAt: Date.now(),
        },
        this.settings.sessionTtlSeconds,
      );
      res.setHeader('set-cookie', [
        clearState,
        cookie(SESSION_COOKIE, sign(this.settings.sessionSecret, id), this.settings.sessionTtlSeconds),
      ]);
      this.log.info(
        { platform, login, repositories: access.repos.length, teamAdmin: access.teamAdmin },
        'dashboard sign-in',
      );
      redirect(res, '/');
    } catch (error) {
      this.log.warn({ platform, err: (error as Error).message }, 'dashboard sign-in failed');
      res.setHeader('set-cookie', clearState);
      redirect(res, '/?signin=failed');
    }
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 302;
  res.setHeader('location', location);
  res.end();
}
