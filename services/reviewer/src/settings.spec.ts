import { ENV, MODEL_CATALOGUE } from '@kritik/core';
import { DEFAULT_TERMINATION_LOG, readClientSettings, readJobSettings, SettingsError } from './settings.js';

const payload = {
  reviewId: 'abcdef0123456789abcd',
  platform: 'github',
  repo: { owner: 'acme', name: 'api' },
  pr: 7,
  headSha: 'a'.repeat(40),
  trigger: 'opened',
  enqueuedAt: '2024-01-01T00:00:00.000Z',
  apiUrl: 'https://github.example/api/v3',
};
const jobEnv = {
  [ENV.review]: JSON.stringify(payload),
  [ENV.githubToken]: 'ghs_secret_token_value',
  [ENV.anthropicApiKey]: 'sk-ant-secret-key-value',
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error('expected a SettingsError');
}

describe(readJobSettings.name, () => {
  it('reads the payload, credentials and defaults', () => {
    const sut = readJobSettings(jobEnv);

    expect(sut).toMatchObject({
      payload: { pr: 7, repo: { owner: 'acme', name: 'api' } },
      host: { platform: 'github', url: 'https://github.example/api/v3', token: 'ghs_secret_token_value' },
      terminationLog: DEFAULT_TERMINATION_LOG,
      deadlineSeconds: 540,
    });
  });

  it('reads the workspace and the checkout limits, with defaults for the limits', () => {
    const sut = readJobSettings({ ...jobEnv, [ENV.workspace]: '/workspace', [ENV.checkoutMaxFiles]: '500' });

    expect(sut.workspace).toBe('/workspace');
    expect(sut.checkoutLimits).toEqual({ maxBytes: 256 * 1024 * 1024, maxFiles: 500, maxFileBytes: 1024 * 1024 });
  });

  it('names a bad checkout limit and a relative workspace', () => {
    const sut = problems(() =>
      readJobSettings({ ...jobEnv, [ENV.workspace]: 'workspace', [ENV.checkoutMaxBytes]: '-1' }),
    );

    expect(sut).toEqual([`${ENV.workspace} must be an absolute path`, `${ENV.checkoutMaxBytes} must be positive`]);
  });

  it('prefers GITHUB_API_URL over the payload apiUrl', () => {
    const sut = readJobSettings({ ...jobEnv, [ENV.githubApiUrl]: 'http://127.0.0.1:9' });

    expect(sut.host.url).toBe('http://127.0.0.1:9');
  });

  it('reads GITLAB_TOKEN and the GitLab base URL from the payload of a GitLab review', () => {
    const gitlab = { ...payload, platform: 'gitlab', repo: { owner: 'acme/platform', name: 'api' } };
    const sut = readJobSettings({
      [ENV.review]: JSON.stringify({ ...gitlab, apiUrl: 'https://gitlab.example.com' }),
      [ENV.gitlabToken]: 'glpat-secret-token-value',
      [ENV.anthropicApiKey]: 'sk-ant-secret-key-value',
    });

    expect(sut.host).toEqual({
      platform: 'gitlab',
      url: 'https://gitlab.example.com',
      token: 'glpat-secret-token-value',
    });
  });

  it('names GITLAB_TOKEN, not GITHUB_TOKEN, when a GitLab review has none', () => {
    const sut = problems(() =>
      readJobSettings({ ...jobEnv, [ENV.review]: JSON.stringify({ ...payload, platform: 'gitlab' }) }),
    );

    expect(sut).toEqual([`${ENV.gitlabToken} must be set`]);
  });

  it('names every bad variable at once', () => {
    const sut = problems(() =>
      readJobSettings({ [ENV.review]: '{not json', [ENV.githubApiUrl]: 'nope', KRITIK_DEADLINE_SECONDS: '0' }),
    );

    expect(sut.map((p) => p.split(' ')[0])).toEqual([
      ENV.review,
      ENV.githubToken,
      ENV.anthropicApiKey,
      'KRITIK_DEADLINE_SECONDS',
      ENV.githubApiUrl,
    ]);
  });

  it('says which payload field is wrong', () => {
    const sut = problems(() => readJobSettings({ ...jobEnv, [ENV.review]: JSON.stringify({ ...payload, pr: -1 }) }));

    expect(sut).toEqual([expect.stringMatching(/^KRITIK_REVIEW is not a valid review payload \(pr: /)]);
  });

  it('never puts a secret value into its messages', () => {
    const sut = problems(() => readJobSettings({ ...jobEnv, [ENV.review]: 'x', [ENV.anthropicBaseUrl]: 'bad' }));

    expect(sut.join(' ')).not.toMatch(/secret_token_value|secret-key-value/);
  });
});

describe(readClientSettings.name, () => {
  it('treats every variable as optional and blank as unset', () => {
    const sut = readClientSettings({ [ENV.githubToken]: '  ' });

    expect(sut).toEqual({
      githubToken: undefined,
      githubApiUrl: 'https://api.github.com',
      githubApiUrlSet: false,
      gitlabToken: undefined,
      gitlabUrl: 'https://gitlab.com',
      gitlabUrlSet: false,
      anthropicApiKey: undefined,
      anthropicBaseUrl: undefined,
      model: { provider: 'anthropic', catalogue: MODEL_CATALOGUE, maxConcurrency: 4 },
      quiet: false,
    });
  });
});
