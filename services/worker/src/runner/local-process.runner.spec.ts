import type { ReviewPayload } from '@kritik/core';
import { postedResult } from '@kritik/testing';
import { LocalProcessRunner } from './local-process.runner.js';

const payload: ReviewPayload = {
  reviewId: 'abcdef0123456789abcd',
  platform: 'github',
  repo: { owner: 'acme', name: 'web' },
  pr: 1,
  headSha: 'c'.repeat(40),
  trigger: 'opened',
  enqueuedAt: '2025-01-01T00:00:00.000Z',
  apiUrl: 'http://127.0.0.1:1',
};
const result = postedResult();
const runner = (script: string, deadline = 30) =>
  new LocalProcessRunner(
    {
      command: [process.execPath, '-e', script],
      settings: { activeDeadlineSeconds: deadline, env: { EXTRA: 'x' } },
      killGraceMs: 200,
    },
    { PATH: process.env.PATH, GITHUB_APP_PRIVATE_KEY: 'must-not-leak' },
  );
const run = (sut: LocalProcessRunner, signal = new AbortController().signal) =>
  sut.run({ payload, token: 'ghs_secret', model: { kind: 'direct' }, signal });

describe(LocalProcessRunner.name, () => {
  it('reads the result from the termination-message file', async () => {
    const sut = runner(
      `require('fs').writeFileSync(process.env.KRITIK_TERMINATION_LOG, ${JSON.stringify(JSON.stringify(result))})`,
    );
    expect(await run(sut)).toEqual({ kind: 'reported', result });
  });

  it('falls back to the last result line on stdout', async () => {
    const sut = runner(`console.log('working'); console.log(${JSON.stringify(JSON.stringify(result))})`);
    expect(await run(sut)).toEqual({ kind: 'reported', result });
  });

  it('hands the reviewer its payload, token and settings but none of the worker env', async () => {
    const echo = `const e = process.env; console.log(JSON.stringify({ ...${JSON.stringify(result)}, reason: [JSON.parse(e.KRITIK_REVIEW).reviewId, e.GITHUB_TOKEN, e.GITHUB_API_URL, e.EXTRA, e.GITHUB_APP_PRIVATE_KEY ?? 'absent'].join(',') }))`;
    const sut = await run(runner(echo));
    expect(sut.kind === 'reported' && sut.result.reason).toBe(
      `${payload.reviewId},ghs_secret,http://127.0.0.1:1,x,absent`,
    );
  });

  it('passes its cloud credentials and model settings to a reviewer that calls the provider itself, not through the gateway', async () => {
    const echo = `const e = process.env; console.log(JSON.stringify({ ...${JSON.stringify(result)}, reason: [e.KRITIK_MODEL_PROVIDER, e.AWS_ACCESS_KEY_ID ?? 'no key', e.AWS_SECRET_ACCESS_KEY ?? 'no secret'].join(',') }))`;
    const sut = new LocalProcessRunner(
      { command: [process.execPath, '-e', echo], settings: { activeDeadlineSeconds: 30, env: {} }, killGraceMs: 200 },
      { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'AKIAWORKER', AWS_SECRET_ACCESS_KEY: 'worker-secret' },
    );
    const signal = new AbortController().signal;

    const direct = await sut.run({
      payload,
      token: 't',
      model: { kind: 'direct', env: { KRITIK_MODEL_PROVIDER: 'bedrock' } },
      signal,
    });
    const gateway = await sut.run({
      payload,
      token: 't',
      model: { kind: 'gateway', baseUrl: 'http://127.0.0.1:1', token: 'kgw_x' },
      signal,
    });

    expect(direct.kind === 'reported' && direct.result.reason).toBe('bedrock,AKIAWORKER,worker-secret');
    expect(gateway.kind === 'reported' && gateway.result.reason).toBe(',no key,no secret');
  });

  it('reports a crash with its exit code and last error line', async () => {
    const sut = await run(runner(`console.error('Error: kaboom'); process.exit(3)`));
    expect(sut).toEqual({ kind: 'failed', reason: expect.stringMatching(/exit code 3: Error: kaboom/) });
  });

  it('stops a reviewer that passes its deadline and says timeout', async () => {
    const sut = await run(runner('setInterval(() => {}, 1000)', 1));
    expect(sut).toMatchObject({ kind: 'failed', reason: 'timeout' });
  });

  it('stops the reviewer when the review is cancelled', async () => {
    const controller = new AbortController();
    const sut = run(runner('setInterval(() => {}, 1000)'), controller.signal);
    setTimeout(() => controller.abort(), 200);
    expect(await sut).toEqual({ kind: 'cancelled' });
  });
});
