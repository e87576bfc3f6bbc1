import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MalformedEventError } from '../intake/intake.event.js';
import { fromGitHub } from './github.events.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', `${name}.json`), 'utf8'));

describe(fromGitHub.name, () => {
  it('maps a pull_request payload to a platform-neutral pull request event', () => {
    expect(fromGitHub('pull_request', fixture('pull_request.synchronize'))).toEqual({
      type: 'pull-request',
      change: 'synchronize',
      pullRequest: {
        platform: 'github',
        repo: { owner: 'acme', name: 'api' },
        number: 42,
        headSha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
        baseSha: '9a8d0c3e25cb4e7a2f1b6d4c8e0f3a5b7c9d1e2f',
        draft: false,
        open: true,
        author: { login: 'alice', bot: false },
        installationId: 51234567,
      },
      sender: { login: 'alice', bot: false },
    });
  });

  it.each(['check_run', 'check_suite'])('maps a %s Re-run to a re-run of the pull request head', (event) => {
    expect(fromGitHub(event, fixture(`${event}.rerequested`))).toEqual({
      type: 'rerun',
      pullRequest: {
        platform: 'github',
        repo: { owner: 'acme', name: 'api' },
        number: 42,
        headSha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
        baseSha: '9a8d0c3e25cb4e7a2f1b6d4c8e0f3a5b7c9d1e2f',
        installationId: 51234567,
      },
      sender: { login: 'bob', bot: false },
    });
  });

  it("does not re-run another App's check run or a commit that heads no pull request", () => {
    const run = fixture('check_run.rerequested');
    const other = { ...run, check_run: { ...run.check_run, name: 'ci / build' } };
    const fork = { ...run, check_run: { ...run.check_run, pull_requests: [] } };
    expect(fromGitHub('check_run', other)).toEqual({
      type: 'rerun-elsewhere',
      reason: "check run ci / build is not Kritik's",
    });
    expect(fromGitHub('check_run', fork)).toMatchObject({ type: 'rerun-elsewhere' });
    expect(fromGitHub('check_run', { ...run, action: 'completed' })).toEqual({
      type: 'unsupported',
      name: 'check_run.completed',
    });
  });

  it('keeps the name of a change that cannot start a review', () => {
    expect(fromGitHub('pull_request', fixture('pull_request.closed'))).toMatchObject({ change: { other: 'closed' } });
  });

  it('recognises bots by account type', () => {
    const event = fromGitHub('pull_request', fixture('pull_request.opened.bot'));
    expect(event).toMatchObject({ pullRequest: { author: { login: 'dependabot[bot]', bot: true } } });
  });

  it('maps a comment on a pull request with its body and author', () => {
    expect(fromGitHub('issue_comment', fixture('issue_comment.created.help'))).toEqual({
      type: 'comment',
      created: true,
      pullRequest: {
        platform: 'github',
        repo: { owner: 'acme', name: 'api' },
        number: 42,
        open: true,
        installationId: 51234567,
      },
      commentId: 2490000001,
      body: '@kritik help',
      author: { login: 'bob', bot: false },
      maintainer: true,
    });
  });

  it('tells a comment on a plain issue apart', () => {
    expect(fromGitHub('issue_comment', fixture('issue_comment.created.issue'))).toEqual({ type: 'issue-comment' });
  });

  it('maps installation events with their account', () => {
    expect(fromGitHub('installation', fixture('installation.created'))).toEqual({
      type: 'installation',
      action: 'installation.created',
      account: 'acme',
      installationId: 51234567,
    });
  });

  it('reports every unsupported event by name', () => {
    expect(fromGitHub('push', {})).toEqual({ type: 'unsupported', name: 'push' });
  });

  it('throws MalformedEventError naming the bad fields', () => {
    const payload = fixture('pull_request.opened');
    delete payload.repository;
    payload.pull_request.number = 'forty-two';
    expect(() => fromGitHub('pull_request', payload)).toThrow(MalformedEventError);
    expect(() => fromGitHub('pull_request', payload)).toThrow(/pull_request\.number.*repository/s);
  });

  it('rejects a payload that is not an object', () => {
    expect(() => fromGitHub('issue_comment', [1, 2])).toThrow(MalformedEventError);
  });
});
