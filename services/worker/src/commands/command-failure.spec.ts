import { NotConfiguredError } from '../code-host/code-host.js';
import { CommandFailure, judgeFailure } from './command-failure.js';

const httpError = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error('boom'), { status, response: { headers } });

describe(judgeFailure.name, () => {
  it('tries again after a GitHub 5xx', () => {
    expect(judgeFailure(httpError(502))).toMatchObject({ cause: 'github_error', transient: true });
  });

  it('tries again after a rate limit answered with 403', () => {
    expect(judgeFailure(httpError(403, { 'x-ratelimit-remaining': '0' }))).toMatchObject({ transient: true });
  });

  it('tries again after an error without an HTTP status, such as a dropped connection', () => {
    expect(judgeFailure(new Error('socket hang up'))).toMatchObject({ cause: 'error', transient: true });
  });

  it('ends at once when the pull request is not found', () => {
    expect(judgeFailure(httpError(404))).toMatchObject({ cause: 'not_found', transient: false });
  });

  it('ends at once when the App lacks a permission', () => {
    expect(judgeFailure(httpError(422))).toMatchObject({ cause: 'forbidden', transient: false });
  });

  it('ends at once a command of a platform the worker is not configured for', () => {
    expect(judgeFailure(new NotConfiguredError('gitlab'))).toEqual({
      cause: 'error',
      transient: false,
      reason: 'the worker is not configured for gitlab',
    });
  });

  it('ends at once with the reason of a command that cannot succeed', () => {
    expect(judgeFailure(new CommandFailure('closed', 'pull request #3 is closed'))).toEqual({
      cause: 'closed',
      transient: false,
      reason: 'pull request #3 is closed',
    });
  });
});
