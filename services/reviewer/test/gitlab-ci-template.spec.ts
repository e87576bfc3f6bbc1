// The GitLab CI template (docs/ci/gitlab) runs the CLI on the pipeline's merge request: the URL it
// builds from GitLab's predefined variables is one the CLI reads, nested groups included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { hostFor, parseTarget } from '../src/cli/cli.js';

const template = parse(readFileSync(join(__dirname, '../../../docs/ci/gitlab/kritik.gitlab-ci.yml'), 'utf8')) as {
  'kritik-review': {
    rules: { if: string }[];
    script: string[];
    variables: Record<string, string>;
    allow_failure: boolean;
  };
};
const job = template['kritik-review'];
const ci = {
  CI_SERVER_URL: 'https://gitlab.example.com',
  CI_PROJECT_URL: 'https://gitlab.example.com/acme/platform/api',
  CI_MERGE_REQUEST_IID: '12',
  KRITIK_ARGS: '',
};
const expand = (text: string) => text.replace(/\$([A-Z_]+)/g, (_m, name: string) => ci[name as keyof typeof ci] ?? '');

describe('GitLab CI template', () => {
  it('runs only in merge request pipelines and never blocks them', () => {
    expect(job.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(job.allow_failure).toBe(true);
  });

  it('reviews the pipeline merge request with its token sent to the pipeline instance only', () => {
    const command = expand(job.script.at(-1)!);
    const url = /review "([^"]+)"/.exec(command)![1]!;
    const target = parseTarget(url);

    expect(target).toMatchObject({ platform: 'gitlab', repo: { owner: 'acme/platform', name: 'api' }, pr: 12 });
    expect(
      hostFor(target, {
        githubApiUrl: 'https://api.github.com',
        githubApiUrlSet: false,
        gitlabUrl: expand(job.variables.GITLAB_URL!),
        gitlabUrlSet: true,
        gitlabToken: 'glpat-x',
      }),
    ).toEqual({ platform: 'gitlab', url: 'https://gitlab.example.com', token: 'glpat-x' });
  });
});
