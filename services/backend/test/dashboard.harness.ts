// The backend with its dashboard on, signing in against the GitHub fake's user-to-server OAuth:
// the App installed on `acme` (acme/api, acme/web), users limited to the repositories they reach;
// with `gitlab`, also against the GitLab fake's OAuth application (projects acme/api, acme/web,
// other/lib; members set by each test; group `acme/platform` holds `group-lead`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_API } from '@kritik/core';
import { FakeGitHub, FakeGitLab, freePort } from '@kritik/testing';
import { type BackendHarness, GITLAB_SECRET, startBackend } from './backend.harness.js';

export const CLIENT_ID = 'Iv23liTestClientId';
export const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';
export const SESSION_SECRET = 'a session secret of the tests, 32+ characters';
export const GITLAB_CLIENT_ID = 'gl-app-0123456789abcdef0123456789';
export const GITLAB_CLIENT_SECRET = 'gloas-test-client-secret-0123456789abcdef';

export interface DashboardHarness {
  readonly backend: BackendHarness;
  readonly github: FakeGitHub;
  /** Present when started with `{ gitlab: true }`. */
  readonly gitlab: FakeGitLab | undefined;
  /** Signs `login` in through the OAuth round trip; answers the session cookie (`name=value`). */
  signIn(login: string, repositories?: string[]): Promise<string>;
  /** Signs `username` in with GitLab (`projects`: path → access level, added as memberships). */
  signInGitLab(username: string, projects?: Record<string, number>): Promise<string>;
  stop(): Promise<void>;
}

/** A directory holding a stand-in for the built SPA, for API tests that need no build. */
export function fakeAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-dashboard-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Kritik</title><div id="app"></div>');
  return dir;
}

export async function startDashboard(
  env: Record<string, string> = {},
  options: { gitlab?: boolean } = {},
): Promise<DashboardHarness> {
  const github = await new FakeGitHub().start();
  const gitlab = options.gitlab ? await new FakeGitLab().start() : undefined;
  gitlab
    ?.addProject('acme/api')
    .addProject('acme/web')
    .addProject('other/lib')
    .setOAuthApplication(GITLAB_CLIENT_ID, GITLAB_CLIENT_SECRET)
    .addGroup('acme/platform', ['group-lead']);
  const gitlabEnv: Record<string, string> = gitlab
    ? {
        GITLAB_URL: gitlab.url,
        GITLAB_WEBHOOK_SECRET: GITLAB_SECRET,
        GITLAB_CLIENT_ID,
        GITLAB_CLIENT_SECRET,
        KRITIK_DASHBOARD_GITLAB_ADMIN_GROUP: 'acme/platform',
      }
    : {};
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
      ...gitlabEnv,
      ...env,
    });
  } catch (error) {
    await github.stop();
    await gitlab?.stop();
    throw error;
  }
  /** Follows a sign-in from its login path through the host's authorize page and back. */
  async function roundTrip(loginPath: string): Promise<string> {
    const login1 = await fetch(`${backend.url}${loginPath}`, { redirect: 'manual' });
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
  }
  return {
    backend,
    github,
    gitlab,
    signIn(login, repositories) {
      github.signInAs(login, repositories);
      return roundTrip(DASHBOARD_API.signIn.github.login);
    },
    signInGitLab(username, projects = {}) {
      if (!gitlab) throw new Error('start the dashboard with { gitlab: true }');
      for (const [path, level] of Object.entries(projects)) gitlab.addMember(path, username, level);
      gitlab.signInAs(username);
      return roundTrip(DASHBOARD_API.signIn.gitlab.login);
    },
    async stop() {
      await backend.stop();
      await github.stop();
      await gitlab?.stop();
    },
  };
}

/** `name=value` of a cookie a response sets. */
export function cookieOf(response: Response, name: string): string {
  const set = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!set) throw new Error(`no ${name} cookie in the response`);
  return set.split(';')[0]!;
}
