import { checkRunText } from './check-run.js';
import { COMMIT_STATUS_STATES, commitStatusText, gitlabProjectId, statusDescription } from './commit-status.js';

describe('commit status', () => {
  it('says what the check run says, as one line', () => {
    expect(commitStatusText.inProgress('abcdef0123')).toBe(
      `${checkRunText.inProgress('abcdef0123').title}: Kritik is reviewing abcdef0.`,
    );
  });

  it('reduces Markdown links to their text and drops hidden markers', () => {
    const text = statusDescription({
      title: '2 finding(s)',
      summary: '2 inline comment(s) posted in [the review](https://x.example/r).\n<!-- kritik:review -->',
    });

    expect(text).toBe('2 finding(s): 2 inline comment(s) posted in the review.');
  });

  it('cuts a long reason to the 255 characters GitLab accepts', () => {
    const text = commitStatusText.ended('failure', 'x'.repeat(1000));

    expect(text).toHaveLength(255);
    expect(text.endsWith('…')).toBe(true);
  });

  it('never fails the status for findings, and cancels a superseded review', () => {
    expect(COMMIT_STATUS_STATES.neutral).toBe('success');
    expect(COMMIT_STATUS_STATES.failure).toBe('failed');
    expect(COMMIT_STATUS_STATES.cancelled).toBe('canceled');
  });

  it('encodes a project of nested groups as one path segment', () => {
    expect(gitlabProjectId({ owner: 'acme/platform', name: 'api' })).toBe('acme%2Fplatform%2Fapi');
  });
});
