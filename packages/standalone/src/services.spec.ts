import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@kritik/testing';
import { locateServiceMain, ServiceNotBuiltError, serviceEnv } from './services.js';
import { loadStandaloneConfig } from './standalone.config.js';

const source = {
  PATH: '/usr/bin',
  GITHUB_WEBHOOK_SECRET: 'webhook-secret',
  KRITIK_API_TOKEN: 'api-token-0123456789',
  GITHUB_APP_ID: '42',
  GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----',
  ANTHROPIC_API_KEY: 'sk-ant-key',
  KRITIK_WORKER_PORT: '9001',
  PORT: '9000',
};

describe(serviceEnv.name, () => {
  const config = loadStandaloneConfig(source);

  it('gives the backend its port and Redis but not the App key or the Anthropic key', () => {
    const sut = serviceEnv('backend', config, 'redis://127.0.0.1:7000', source);

    expect(sut).toMatchObject({
      PORT: '9000',
      REDIS_URL: 'redis://127.0.0.1:7000',
      GITHUB_WEBHOOK_SECRET: 'webhook-secret',
    });
    expect(sut).not.toHaveProperty('GITHUB_APP_PRIVATE_KEY');
    expect(sut).not.toHaveProperty('ANTHROPIC_API_KEY');
  });

  it('gives the worker the local runner, its own port and the App key but not the webhook secret', () => {
    const sut = serviceEnv('worker', config, 'redis://127.0.0.1:7000', source);

    expect(sut).toMatchObject({
      PORT: '9001',
      KRITIK_RUNNER: 'local',
      GITHUB_APP_PRIVATE_KEY: source.GITHUB_APP_PRIVATE_KEY,
    });
    expect(sut).not.toHaveProperty('GITHUB_WEBHOOK_SECRET');
    expect(sut).not.toHaveProperty('KRITIK_API_TOKEN');
  });

  it("keeps GitLab's token from the backend and its webhook secret from the worker", () => {
    const gitlab = {
      ...source,
      GITLAB_URL: 'https://gitlab.example.com',
      GITLAB_TOKEN: 'glpat-x',
      GITLAB_WEBHOOK_SECRET: 'w',
    };

    const backend = serviceEnv('backend', config, undefined, gitlab);
    const worker = serviceEnv('worker', config, undefined, gitlab);

    expect([backend.GITLAB_URL, backend.GITLAB_TOKEN, backend.GITLAB_WEBHOOK_SECRET]).toEqual([
      'https://gitlab.example.com',
      undefined,
      'w',
    ]);
    expect([worker.GITLAB_URL, worker.GITLAB_TOKEN, worker.GITLAB_WEBHOOK_SECRET]).toEqual([
      'https://gitlab.example.com',
      'glpat-x',
      undefined,
    ]);
  });

  it('passes the Sentinel settings through and sets no REDIS_URL of its own', () => {
    const sentinel = { ...source, KRITIK_REDIS_SENTINELS: 's1:26379,s2:26379', KRITIK_REDIS_SENTINEL_NAME: 'mymaster' };
    const sut = serviceEnv('worker', loadStandaloneConfig(sentinel), undefined, sentinel);

    expect(sut).toMatchObject({ KRITIK_REDIS_SENTINELS: 's1:26379,s2:26379', KRITIK_REDIS_SENTINEL_NAME: 'mymaster' });
    expect(sut).not.toHaveProperty('REDIS_URL');
  });

  it('keeps a runner chosen explicitly', () => {
    const sut = serviceEnv('worker', config, 'redis://127.0.0.1:7000', { ...source, KRITIK_RUNNER: 'kubernetes' });

    expect(sut.KRITIK_RUNNER).toBe('kubernetes');
  });
});

describe(locateServiceMain.name, () => {
  it('finds the built entry point of a service through node_modules', () => {
    const sut = locateServiceMain('worker', join(repoRoot(), 'packages', 'standalone', 'src'));

    expect(sut).toBe(join(repoRoot(), 'services', 'worker', 'dist', 'main.js'));
  });

  it('says to build when a service is installed but not built', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kritik-locate-'));
    try {
      mkdirSync(join(dir, 'node_modules', '@kritik', 'backend'), { recursive: true });
      writeFileSync(join(dir, 'node_modules', '@kritik', 'backend', 'package.json'), '{}');

      expect(() => locateServiceMain('backend', dir)).toThrow(ServiceNotBuiltError);
      expect(() => locateServiceMain('backend', dir)).toThrow(/npm run build/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
