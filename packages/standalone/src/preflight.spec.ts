import { generateAppKeyPair } from '@kritik/testing';
import { optionalWarnings, preflight } from './preflight.js';

const complete = () => ({
  GITHUB_WEBHOOK_SECRET: 'webhook-secret',
  GITHUB_APP_ID: '42',
  GITHUB_APP_PRIVATE_KEY: generateAppKeyPair().privateKeyPem,
  ANTHROPIC_API_KEY: 'sk-ant-preflight-0123456789',
  KRITIK_API_TOKEN: '0123456789abcdef0123',
});

describe(preflight.name, () => {
  it('names the problems of the standalone and of both services in one pass', () => {
    const sut = preflight({ PORT: 'http' });

    expect(sut.ok).toBe(false);
    const named = sut.ok
      ? {}
      : Object.fromEntries(sut.problems.map((p) => [p.service, p.problems.map((x) => x.source)]));
    expect(named).toEqual({
      standalone: ['PORT'],
      backend: ['GITHUB_WEBHOOK_SECRET'],
      worker: ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY'],
    });
  });

  it('counts a secret for the service that receives it', () => {
    // The webhook secret is the backend's: given, the backend has no problem left, the worker still has its own.
    const sut = preflight({ GITHUB_WEBHOOK_SECRET: 'webhook-secret' });

    expect(sut.ok ? [] : sut.problems.find((p) => p.service === 'backend')?.problems).toEqual([]);
  });

  it('passes a complete configuration without warnings', () => {
    expect(preflight(complete())).toMatchObject({ ok: true, warnings: [] });
  });
});

describe(optionalWarnings.name, () => {
  it('warns that reviews run the checks only without ANTHROPIC_API_KEY, and that the API is off without a token', () => {
    const { ANTHROPIC_API_KEY: _key, KRITIK_API_TOKEN: _token, ...rest } = complete();

    const sut = optionalWarnings(rest);

    expect(sut).toEqual([
      expect.stringMatching(/^ANTHROPIC_API_KEY is not set: reviews run the deterministic checks only/),
      expect.stringMatching(/^KRITIK_API_TOKEN is not set: the reviews API answers 401/),
    ]);
  });
});
