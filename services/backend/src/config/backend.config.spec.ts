import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@kritik/server';
import { loadBackendConfig } from './backend.config.js';

const minimal = { REDIS_URL: 'redis://127.0.0.1:6379', GITHUB_WEBHOOK_SECRET: 'secret' };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadBackendConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.source);
    throw error;
  }
  return [];
}

describe(loadBackendConfig.name, () => {
  it('refuses to start without a webhook secret, naming the variable', () => {
    expect(problems({ REDIS_URL: minimal.REDIS_URL })).toEqual(['GITHUB_WEBHOOK_SECRET']);
  });

  it('starts with GitLab alone, GitHub alone, or both', () => {
    const gitlab = { REDIS_URL: minimal.REDIS_URL, GITLAB_WEBHOOK_SECRET: 'token' };
    expect(loadBackendConfig(gitlab)).toMatchObject({ gitlab: { webhookSecret: 'token' }, github: {} });
    expect(loadBackendConfig(minimal).gitlab).toEqual({});
    expect(loadBackendConfig({ ...minimal, ...gitlab })).toMatchObject({
      github: { webhookSecret: 'secret' },
      gitlab: { webhookSecret: 'token' },
    });
  });

  it('refuses to start with a GitLab URL but no GitLab webhook secret, naming the variable', () => {
    expect(problems({ ...minimal, GITLAB_URL: 'https://gitlab.example.com' })).toEqual(['GITLAB_WEBHOOK_SECRET']);
  });

  it('reads the Redis settings shared with the worker, naming a bad one', () => {
    const sut = loadBackendConfig({ ...minimal, REDIS_URL: 'rediss://kritik:s3cret@redis.internal:6380/1' });

    expect(sut.redis).toEqual({
      target: { kind: 'server', host: 'redis.internal', port: 6380 },
      db: 1,
      username: 'kritik',
      password: 's3cret',
      tls: {},
    });
    expect(problems({ ...minimal, KRITIK_REDIS_SENTINELS: 'sentinel:26379' })).toEqual(['KRITIK_REDIS_SENTINELS']);
  });

  it('names every bad variable at once', () => {
    expect(problems({ PORT: 'http', KRITIK_DEBOUNCE_MS: '-1', KRITIK_API_TOKEN: 'short' }).sort()).toEqual([
      'GITHUB_WEBHOOK_SECRET',
      'KRITIK_API_TOKEN',
      'KRITIK_DEBOUNCE_MS',
      'PORT',
      'REDIS_URL',
    ]);
  });

  it('defaults to port 8080, open allow-lists and a two-second debounce', () => {
    const sut = loadBackendConfig(minimal);
    expect(sut).toMatchObject({
      port: 8080,
      triggers: {
        botName: 'kritik',
        label: 'kritik:review',
        debounceMs: 2_000,
        reviewDrafts: false,
        reviewBots: false,
      },
      allow: { orgs: [], repos: [], users: [] },
    });
    expect(sut.apiToken).toBeUndefined();
  });

  it('reads allow-lists and switches from the environment', () => {
    const sut = loadBackendConfig({
      ...minimal,
      KRITIK_ALLOWED_REPOS: 'acme/*,labs/api',
      KRITIK_ALLOWED_USERS: 'alice',
      KRITIK_REVIEW_BOTS: 'true',
    });
    expect(sut.allow).toEqual({ orgs: [], repos: ['acme/*', 'labs/api'], users: ['alice'] });
    expect(sut.triggers.reviewBots).toBe(true);
  });
});

describe('the backend config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-backend-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const withFile = (text: string) => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return { ...minimal, KRITIK_CONFIG: file };
  };

  it('reads the trigger settings from the triggers section the worker reads too', () => {
    const sut = loadBackendConfig(
      withFile('triggers:\n  botName: review-bot\n  label: ai-review\n  debounceMs: 500\n'),
    );
    expect(sut.triggers).toMatchObject({ botName: 'review-bot', label: 'ai-review', debounceMs: 500 });
  });

  it('refuses settings that moved into triggers instead of silently keeping the defaults', () => {
    expect(() => loadBackendConfig(withFile('github:\n  botName: review-bot\nqueue:\n  debounceMs: 500\n'))).toThrow(
      /botName[\s\S]*queue|queue[\s\S]*botName/,
    );
  });

  it('leaves the dashboard off when sign-in is not configured, even with GITHUB_API_URL set', () => {
    expect(
      loadBackendConfig({ ...minimal, GITHUB_API_URL: 'https://ghe.example.com/api/v3' }).dashboard,
    ).toBeUndefined();
  });

  it('turns the dashboard on with every sign-in setting, with defaults for the rest', () => {
    const sut = loadBackendConfig({
      ...minimal,
      GITHUB_CLIENT_ID: 'Iv23li',
      GITHUB_CLIENT_SECRET: 'client-secret',
      KRITIK_SESSION_SECRET: 's'.repeat(32),
      KRITIK_DASHBOARD_URL: 'https://kritik.example.com',
      KRITIK_DASHBOARD_ADMINS: 'ops-lead, alice',
    }).dashboard;
    expect(sut).toMatchObject({
      github: { clientId: 'Iv23li', apiUrl: 'https://api.github.com', webUrl: 'https://github.com' },
      admins: ['ops-lead', 'alice'],
      sessionTtlSeconds: 28_800,
      accessCacheSeconds: 60,
    });
  });

  it('refuses a half-configured sign-in, naming each missing or bad variable', () => {
    expect(problems({ ...minimal, GITHUB_CLIENT_ID: 'Iv23li', KRITIK_SESSION_SECRET: 'short' }).sort()).toEqual([
      'GITHUB_CLIENT_SECRET',
      'KRITIK_DASHBOARD_URL',
      'KRITIK_SESSION_SECRET',
    ]);
  });

  const signIn = { KRITIK_SESSION_SECRET: 's'.repeat(32), KRITIK_DASHBOARD_URL: 'https://kritik.example.com' };

  it('turns the dashboard on with GitLab sign-in alone, on the instance of GITLAB_URL', () => {
    const sut = loadBackendConfig({
      ...minimal,
      ...signIn,
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      GITLAB_CLIENT_ID: 'gl-app',
      GITLAB_CLIENT_SECRET: 'gloas-secret',
      KRITIK_DASHBOARD_GITLAB_ADMIN_GROUP: 'acme/platform',
      KRITIK_DASHBOARD_ADMINS: 'gitlab:alice, github:bob, carol',
    }).dashboard;
    expect(sut?.github).toBeUndefined();
    expect(sut).toMatchObject({
      gitlab: { clientId: 'gl-app', clientSecret: 'gloas-secret', adminGroup: 'acme/platform' },
      admins: ['gitlab:alice', 'github:bob', 'carol'],
    });
  });

  it('refuses a dashboard without any sign-in provider, naming the variables', () => {
    expect(problems({ ...minimal, ...signIn })).toEqual(['GITHUB_CLIENT_ID']);
    expect(() => loadBackendConfig({ ...minimal, ...signIn })).toThrow(/GITLAB_CLIENT_ID and GITLAB_CLIENT_SECRET/);
  });

  it('refuses a half-configured GitLab sign-in and admins of an unknown host, naming each variable', () => {
    expect(
      problems({
        ...minimal,
        ...signIn,
        GITLAB_CLIENT_ID: 'gl-app',
        KRITIK_DASHBOARD_GITLAB_ADMIN_GROUP: '../etc',
        KRITIK_DASHBOARD_ADMINS: 'bitbucket:eve',
      }).sort(),
    ).toEqual(['GITLAB_CLIENT_SECRET', 'KRITIK_DASHBOARD_ADMINS', 'KRITIK_DASHBOARD_GITLAB_ADMIN_GROUP']);
  });
});
