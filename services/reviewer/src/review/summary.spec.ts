import { emptyUsage } from '@kritik/core';
import { buildSummary, type SummaryInput } from './summary.js';

const input: SummaryInput = {
  summaries: ['Looks fine.'],
  findings: [],
  skipped: [],
  configIssues: [],
  notes: [],
  filesReviewed: 2,
  usage: emptyUsage(),
  costUsd: 0,
  model: 'claude-haiku-4-5',
  markers: [],
};

describe(buildSummary.name, () => {
  it('names the policies applied in the footer', () => {
    const sut = buildSummary({ ...input, policies: ['security', 'models'] });

    expect(sut.split('\n').at(-3)).toContain('policies `security`, `models`');
  });

  it('says nothing of policies when none applied', () => {
    expect(buildSummary({ ...input, policies: [] })).not.toContain('polic');
  });

  it('keeps a hostile policy name inert in the footer', () => {
    const sut = buildSummary({ ...input, policies: ['x`<img src=x onerror=alert(1)>'] });

    expect(sut).not.toContain('`<img');
  });
});
