import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@kritik/testing';
import { memoryIo } from '../../test/memory-io.js';
import { main } from './cli.js';
import { explain, readPolicies } from './policy.js';

/** The platform's example policies of k8s/policies, as `kubectl get -o yaml` would list them. */
const examples = ['models', 'security', 'testing', 'docs']
  .map((name) => readFileSync(join(repoRoot(), 'k8s/policies', `${name}.yaml`), 'utf8'))
  .join('\n---\n');

describe('kritik policy explain', () => {
  it('prints every key with its value and who set it, for policies read from stdin', async () => {
    const sut = memoryIo(examples, { 'repo.yaml': 'model: claude-opus-5\nmax_comments: 4\n' });

    const code = await main(['policy', 'explain', 'acme/api', '--policies', '-', '--config', 'repo.yaml'], {}, sut.io);

    expect(code).toBe(0);
    const text = sut.stdout();
    expect(text).toContain('Policies applied (lowest priority first): testing, security, models');
    expect(text).toMatch(/^model +claude-sonnet-5-5 +policy\/models \(locked by models\)$/m);
    expect(text).toMatch(/^max_comments +4 +\.kritik\.yaml$/m);
    expect(text).toMatch(/^min_severity +major +policy\/security \(locked by security\)$/m);
    expect(text).toMatch(/^max_cost_usd +1 +policy\/models$/m);
    expect(text).toContain('models/repository-per-day: 20 USD per day for this repository');
    expect(text).toContain('model: locked by policy "models"; the file\'s value was ignored');
  });

  it('applies only the policies whose selector takes the repository in', async () => {
    const sut = memoryIo(examples);

    await main(['policy', 'explain', 'acme/docs', '--policies', '-', '--format', 'json'], {}, sut.io);

    const json = JSON.parse(sut.stdout()) as { effective: { policies: string[]; config: { max_comments: number } } };
    expect(json.effective.policies).toEqual(['docs', 'security', 'models']);
    expect(json.effective.config.max_comments).toBe(10);
  });

  it('lists a policy the worker would ignore, with why, and applies the rest', () => {
    const read = readPolicies([
      {
        kind: 'ReviewPolicyList',
        items: [{ kind: 'ReviewPolicy', metadata: { name: 'bad' }, spec: { ignore: ['a/[b'] } }],
      },
      { kind: 'ReviewPolicy', metadata: { name: 'good' }, spec: { instructions: 'Be brief.' } },
      { kind: 'ReviewPolicy', metadata: { name: 'wrong' }, spec: { priority: 'high' } },
    ]);

    const sut = explain({ platform: 'github', owner: 'acme', name: 'api' }, read, null);

    expect(sut.effective.policies).toEqual(['good']);
    expect(sut.ignored.map((i) => i.name)).toEqual(['bad', 'wrong']);
    expect(sut.ignored[1]!.problem).toContain('spec.priority');
  });

  it.each([
    [['policy', 'explain', 'acme/api'], 'give --policies'],
    [['policy', 'explain', 'not-a-repo', '--policies', '-'], 'owner/repo'],
    [['policy', 'show', 'acme/api', '--policies', '-'], 'unknown policy command'],
    [['policy', 'explain', 'acme/api', '--policies', '-', '--platform', 'bitbucket'], '--platform'],
  ])('refuses %j with a clear error and exit code 2', async (argv, message) => {
    const sut = memoryIo(examples);

    expect(await main(argv, {}, sut.io)).toBe(2);
    expect(sut.stderr()).toContain(message);
  });

  it('names a file that is not YAML', async () => {
    const sut = memoryIo('a: [1,\n');

    expect(await main(['policy', 'explain', 'acme/api', '--policies', '-'], {}, sut.io)).toBe(2);
    expect(sut.stderr()).toContain('could not read the policies: -:');
  });
});
