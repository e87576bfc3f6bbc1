import { ConfigError } from '@kritik/server';
import { TempDir } from '@kritik/testing';
import { DEFAULT_WORKER_PORT, effectiveRunner, gitHubApp, gitLabInstance, loadWorkerConfig } from './worker.config.js';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  GITHUB_APP_ID: '123',
  GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n',
};

const temp = new TempDir('kritik-worker-config-');
afterAll(() => temp.remove());
const yamlFile = (text: string) => temp.write('config.yaml', text);

describe(loadWorkerConfig.name, () => {
  it('defaults to the local runner and port 8081 outside a cluster', () => {
    const sut = loadWorkerConfig(base);
    expect(effectiveRunner(sut)).toBe('local');
    expect(sut.port).toBe(DEFAULT_WORKER_PORT);
  });

  it('reads the Redis settings shared with the backend: Sentinel instead of REDIS_URL', () => {
    const { REDIS_URL: _, ...rest } = base;
    const sut = loadWorkerConfig({
      ...rest,
      KRITIK_REDIS_SENTINELS: 'sentinel-0:26379,sentinel-1:26379',
      KRITIK_REDIS_SENTINEL_NAME: 'kritik',
      KRITIK_REDIS_PASSWORD: 'p@ss',
    });
    expect(sut.redis).toEqual({
      target: {
        kind: 'sentinel',
        sentinels: [
          { host: 'sentinel-0', port: 26379 },
          { host: 'sentinel-1', port: 26379 },
        ],
        masterName: 'kritik',
      },
      db: 0,
      password: 'p@ss',
    });
  });

  it('defaults to the kubernetes runner inside a cluster', () => {
    const sut = loadWorkerConfig({ ...base, KUBERNETES_SERVICE_HOST: '10.0.0.1', KRITIK_JOBS_NAMESPACE: 'jobs' });
    expect(effectiveRunner(sut)).toBe('kubernetes');
  });

  it('lets KRITIK_RUNNER override the detection', () => {
    const sut = loadWorkerConfig({ ...base, KUBERNETES_SERVICE_HOST: '10.0.0.1', KRITIK_RUNNER: 'local' });
    expect(effectiveRunner(sut)).toBe('local');
  });

  it('names every bad variable at once and never echoes the key', () => {
    const attempt = () => loadWorkerConfig({ GITHUB_APP_PRIVATE_KEY: 'not-a-key', KRITIK_RUNNER: 'docker' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const message = (err as Error).message;
      for (const name of ['REDIS_URL', 'GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'KRITIK_RUNNER']) {
        expect(message).toContain(name);
      }
      expect(message).not.toContain('not-a-key');
    }
  });

  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadWorkerConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((p) => p.source).sort();
      throw err;
    }
    return [];
  };

  it('starts with a GitLab token alone, gitlab.com unless a URL is given', () => {
    const { GITHUB_APP_ID: _, GITHUB_APP_PRIVATE_KEY: __, ...redis } = base;
    const sut = loadWorkerConfig({ ...redis, GITLAB_TOKEN: 'glpat-x' });
    expect(gitLabInstance(sut)).toEqual({ url: 'https://gitlab.com', token: 'glpat-x' });
    expect(gitHubApp(sut)).toBeUndefined();
    expect(gitLabInstance(loadWorkerConfig(base))).toBeUndefined();
  });

  it('names what a configured code host lacks, and the App when none is configured', () => {
    const { GITHUB_APP_ID: _, GITHUB_APP_PRIVATE_KEY: __, ...redis } = base;
    expect(problemsOf({ ...base, GITLAB_URL: 'https://gitlab.example.com' })).toEqual(['GITLAB_TOKEN']);
    expect(problemsOf({ ...redis, GITLAB_TOKEN: 't', GITHUB_APP_ID: '1' })).toEqual(['GITHUB_APP_PRIVATE_KEY']);
    expect(problemsOf(redis)).toEqual(['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY']);
  });

  it('reads the model provider and refuses an unknown fallback model at start-up, listing the known ones', () => {
    expect(
      loadWorkerConfig({
        ...base,
        KRITIK_MODEL_PROVIDER: 'vertex',
        KRITIK_MODEL_REGION: 'europe-west1',
        KRITIK_VERTEX_PROJECT_ID: 'acme',
        KRITIK_MODEL_CATALOGUE: '{"claude-sonnet-5-5":{"ids":{"vertex":"claude-sonnet-5-5@1"}}}',
      }).model,
    ).toMatchObject({
      provider: 'vertex',
      region: 'europe-west1',
      vertexProjectId: 'acme',
    });
    const attempt = () => loadWorkerConfig({ ...base, REDIS_URL: 'nope', KRITIK_FALLBACK_MODEL: 'claude-sonet-5' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /REDIS_URL[\s\S]*KRITIK_FALLBACK_MODEL: the fallback model "claude-sonet-5" is not in the model catalogue for provider anthropic; known: claude-fable-5,/,
    );
  });

  it('requires the jobs namespace for the kubernetes runner', () => {
    expect(() => loadWorkerConfig({ ...base, KRITIK_RUNNER: 'kubernetes' })).toThrow(/KRITIK_JOBS_NAMESPACE/);
  });

  it('reads Job and scheduling settings from the YAML file', () => {
    const file = yamlFile(
      'reviewJob:\n  image: reviewer:1\n  activeDeadlineSeconds: 120\nscheduling:\n  concurrency: 5\n  perRepoConcurrency: 2\n',
    );
    const sut = loadWorkerConfig(base, file);
    expect(sut.reviewJob).toMatchObject({
      image: 'reviewer:1',
      activeDeadlineSeconds: 120,
      ttlSecondsAfterFinished: 3600,
    });
    expect(sut.scheduling).toMatchObject({ concurrency: 5, perRepoConcurrency: 2, leaseTtlSeconds: 30 });
  });

  it('refuses a replica concurrency below one, naming it', () => {
    const file = yamlFile('scheduling:\n  replicaConcurrency: 0\n');
    expect(() => loadWorkerConfig(base, file)).toThrow(/replicaConcurrency/);
  });

  it('rejects an unknown scheduling key with its path in the file', () => {
    const file = yamlFile('scheduling:\n  concurency: 5\n');
    expect(() => loadWorkerConfig(base, file)).toThrow(/scheduling/);
  });

  it('refuses a renew interval that would let leases lapse', () => {
    const file = yamlFile('scheduling:\n  leaseTtlSeconds: 10\n  renewIntervalSeconds: 6\n');
    expect(() => loadWorkerConfig(base, file)).toThrow(/renewIntervalSeconds/);
  });

  it('reads the bot name, trigger label and debounce from the variables the backend reads', () => {
    const sut = loadWorkerConfig({
      ...base,
      KRITIK_BOT_NAME: 'reviewbot',
      KRITIK_TRIGGER_LABEL: 'ai-review',
      KRITIK_DEBOUNCE_MS: '500',
    });
    expect(sut.triggers).toMatchObject({ botName: 'reviewbot', label: 'ai-review', debounceMs: 500 });
  });

  it('names KRITIK_BOT_NAME when it is not a GitHub login', () => {
    expect(() => loadWorkerConfig({ ...base, KRITIK_BOT_NAME: '@bot' })).toThrow(/KRITIK_BOT_NAME/);
  });
});
