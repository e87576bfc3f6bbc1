// The backend with its dashboard on, signing in against the GitHub fake's user-to-server OAuth:
// the App installed on `acme` (acme/api, acme/web), users limited to the repositories they reach.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitHub, freePort } from '@kritik/testing';
import { type BackendHarness, startBackend } from './backend.harness.js';

export const CLIENT_ID = 'Iv23liTestClientId';
export const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';
export const SESSION_SECRET = 'a session secret of the tests, 32+ characters';

export interface DashboardHarness {
  readonly backend: BackendHarness;
  readonly github: FakeGitHub;
  /** Signs `login` in through the OAuth round trip; answers the session cookie (`name=value`). */
  signIn(login: string, repositories?: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** A directory holding a stand-in for the built SPA, for API tests that need no build. */
export function fakeAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-dashboard-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Kritik</title><div id="app"></div>');
  return dir;
}

export async function startDashboard(env: Record<string, string> = {}): Promise<DashboardHarness> {
  const github = await new FakeGitHub().start();
  github
    .addRepo('acme', 'api')
    .addRepo('acme', 'web')
    .addRepo('other', 'lib')
    .addInstallation({ id: 42, account: 'acme' })
    .setOAuthClient(CLIENT_ID, CLIENT_SECRET)
    .addTeam('acme', 'platform', ['team-lead']);
  let backend: BackendHarness;
  // The dashboard's public URL is the backend's own: GitHub sends the browser back there.
  const port = await freePort();
  try {
    backend = await startBackend({
      PORT: String(port),
      GITHUB_CLIENT_ID: CLIENT_ID,
      GITHUB_CLIENT_SECRET: CLIENT_SECRET,
      GITHUB_API_URL: github.url,
      GITHUB_WEB_URL: github.url,
      KRITIK_SESSION_SECRET: SESSION_SECRET,
      KRITIK_DASHBOARD_URL: `http://127.0.0.1:${port}`,
      KRITIK_DASHBOARD_ADMINS: 'ops-lead',
      KRITIK_DASHBOARD_ADMIN_TEAM: 'acme/platform',
      KRITIK_DASHBOARD_DIR: fakeAssets(),
      ...env,
    });
  } catch (error) {
    await github.stop();
    throw error;
  }
  return {
    backend,
    github,
    async signIn(login, repositories) {
      github.signInAs(login, repositories);
      const login1 = await fetch(`${backend.url}/api/auth/login`, { redirect: 'manual' });
      const stateCookie = cookieOf(login1, 'kritik_oauth_state');
      const authorize = await fetch(login1.headers.get('location')!, { redirect: 'manual' });
      const back = new URL(authorize.headers.get('location')!);
      const callback = await fetch(`${backend.url}${back.pathname}${back.search}`, {
        redirect: 'manual',
        headers: { cookie: stateCookie },
      });
      if (callback.headers.get('location') !== '/')
        throw new Error(`sign-in failed: ${callback.headers.get('location')}`);
      return cookieOf(callback, 'kritik_session');
    },
    async stop() {
      await backend.stop();
      await github.stop();
    },
  };
}

/** `name=value` of a cookie a response sets. */
export function cookieOf(response: Response, name: string): string {
  const set = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!set) throw new Error(`no ${name} cookie in the response`);
  return set.split(';')[0]!;
}
