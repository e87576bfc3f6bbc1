import fc from 'fast-check';
import { DEFAULT_MODEL } from '../models.js';
import { SEVERITIES } from '../review.js';
import {
  buildPolicyLayer,
  emptyPolicyLayer,
  layerConfig,
  policyLayerFor,
  policyLayerSchema,
  policyMatches,
  policyProblems,
  type RepositoryConfig,
  triggerStop,
} from './layering.js';
import {
  LOCKABLE_KEYS,
  type NamedPolicy,
  type ReviewPolicySpecInput,
  reviewPolicySpecSchema,
} from './policy.schema.js';

const defaults = (): RepositoryConfig => ({
  instructions: '',
  path_instructions: [],
  ignore: [],
  max_comments: 20,
  min_severity: 'minor',
  model: DEFAULT_MODEL,
  max_input_tokens: 60_000,
  max_cost_usd: 1,
  max_turns: 12,
  verify: true,
  verify_model: 'claude-haiku-4-5',
});

const policy = (name: string, spec: ReviewPolicySpecInput): NamedPolicy => ({
  name,
  spec: reviewPolicySpecSchema.parse(spec),
});

const MODELS = ['claude-sonnet-5-5', 'claude-haiku-4-5', 'claude-opus-5', 'claude-fable-5'];
const NAMES = ['security', 'testing', 'docs', 'models', 'org-acme'];

const specArb: fc.Arbitrary<ReviewPolicySpecInput> = fc.record(
  {
    priority: fc.integer({ min: -5, max: 5 }),
    instructions: fc.string({ minLength: 1, maxLength: 40 }),
    severityThreshold: fc.constantFrom(...SEVERITIES),
    defaults: fc.record(
      {
        model: fc.constantFrom(...MODELS),
        maxComments: fc.integer({ min: 0, max: 100 }),
        maxCostUsdPerReview: fc.double({ min: 0.01, max: 1000, noNaN: true }),
        maxTurns: fc.integer({ min: 1, max: 50 }),
      },
      { requiredKeys: [] },
    ),
    ceilings: fc.record(
      {
        allowedModels: fc.uniqueArray(fc.constantFrom(...MODELS), { minLength: 1 }),
        maxCostUsdPerReview: fc.double({ min: 0.01, max: 1000, noNaN: true }),
        maxInputTokens: fc.integer({ min: 4_000, max: 1_000_000 }),
        maxTurns: fc.integer({ min: 1, max: 50 }),
      },
      { requiredKeys: [] },
    ),
    locked: fc.uniqueArray(fc.constantFrom(...LOCKABLE_KEYS)),
    ignore: fc.array(fc.constantFrom('docs/**', '*.md', 'gen/**'), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const policiesArb = fc
  .uniqueArray(fc.constantFrom(...NAMES), { maxLength: NAMES.length })
  .chain((names) => fc.tuple(...names.map((n) => specArb.map((s) => policy(n, s)))));

/** What a `.kritik.yaml` may set, hostile values within the file's own validation included. */
const repositoryArb: fc.Arbitrary<Partial<RepositoryConfig>> = fc.record(
  {
    instructions: fc.string({ maxLength: 60 }),
    ignore: fc.array(fc.constantFrom('!docs/**', 'src/**'), { maxLength: 2 }),
    max_comments: fc.integer({ min: 0, max: 100 }),
    min_severity: fc.constantFrom(...SEVERITIES),
    model: fc.constantFrom(...MODELS, 'claude-made-up'),
    max_input_tokens: fc.integer({ min: 4_000, max: 1_000_000 }),
    max_cost_usd: fc.double({ min: 0.01, max: 1000, noNaN: true }),
    max_turns: fc.integer({ min: 1, max: 50 }),
    verify: fc.boolean(),
    verify_model: fc.constantFrom(...MODELS),
  },
  { requiredKeys: [] },
);

const platform = { maxCostUsd: 5, maxInputTokens: 200_000 };

describe(layerConfig.name, () => {
  it('never lets a result exceed a ceiling of any applied policy or of the platform', () => {
    fc.assert(
      fc.property(policiesArb, repositoryArb, (policies, repository) => {
        const { config } = layerConfig(defaults(), buildPolicyLayer(policies), repository, platform);

        for (const { spec } of policies) {
          const c = spec.ceilings ?? {};
          expect(config.max_cost_usd).toBeLessThanOrEqual(c.maxCostUsdPerReview ?? Infinity);
          expect(config.max_input_tokens).toBeLessThanOrEqual(c.maxInputTokens ?? Infinity);
          expect(config.max_turns).toBeLessThanOrEqual(c.maxTurns ?? Infinity);
        }
        expect(config.max_cost_usd).toBeLessThanOrEqual(platform.maxCostUsd);
        expect(config.max_input_tokens).toBeLessThanOrEqual(platform.maxInputTokens);
      }),
    );
  });

  it('only ever uses a model every applied policy allows, when their lists share one', () => {
    fc.assert(
      fc.property(policiesArb, repositoryArb, (policies, repository) => {
        const lists = policies.flatMap((p) => (p.spec.ceilings?.allowedModels ? [p.spec.ceilings.allowedModels] : []));
        const shared = MODELS.filter((m) => lists.every((l) => l.includes(m)));
        fc.pre(lists.length > 0 && shared.length > 0);

        const { config } = layerConfig(defaults(), buildPolicyLayer(policies), repository);

        expect(shared).toContain(config.model);
        expect(shared).toContain(config.verify_model);
      }),
    );
  });

  it("never lets the repository's file change a locked key", () => {
    fc.assert(
      fc.property(policiesArb, repositoryArb, repositoryArb, (policies, one, other) => {
        const layer = buildPolicyLayer(policies);
        const a = layerConfig(defaults(), layer, one, platform);
        const b = layerConfig(defaults(), layer, other, platform);

        for (const { key } of layer.locked) expect(a.config[key]).toEqual(b.config[key]);
      }),
    );
  });

  it('gives the same result whatever order the policies are listed in', () => {
    fc.assert(
      fc.property(
        policiesArb.chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length }))),
        repositoryArb,
        ([listed, shuffled], repository) => {
          expect(layerConfig(defaults(), buildPolicyLayer(shuffled), repository, platform)).toEqual(
            layerConfig(defaults(), buildPolicyLayer(listed), repository, platform),
          );
        },
      ),
    );
  });

  it('names, for every key, a source that exists: the defaults, an applied policy, the file or a ceiling', () => {
    fc.assert(
      fc.property(policiesArb, repositoryArb, (policies, repository) => {
        const { setBy, policies: applied } = layerConfig(defaults(), buildPolicyLayer(policies), repository, platform);
        const known = new Set([
          'default',
          '.kritik.yaml',
          'platform',
          ...applied.flatMap((p) => [`policy/${p}`, `ceiling/${p}`]),
        ]);

        for (const key of LOCKABLE_KEYS) {
          for (const source of setBy[key].split(' + ')) expect(known).toContain(source);
          if (setBy[key] === '.kritik.yaml') expect(Object.hasOwn(repository, key)).toBe(true);
        }
      }),
    );
  });

  it('is the defaults overridden by the file when no policy applies and nothing caps it', () => {
    fc.assert(
      fc.property(repositoryArb, (repository) => {
        fc.pre(!('model' in repository && repository.model === 'claude-made-up'));
        const { config, issues } = layerConfig(defaults(), emptyPolicyLayer(), repository);
        const expected = { ...defaults(), ...repository, instructions: (repository.instructions ?? '').trim() };

        expect(config).toEqual({ ...expected, ignore: [...(repository.ignore ?? [])] });
        expect(issues).toEqual([]);
      }),
    );
  });

  it('keeps the locked key, says which policy locked it, and applies the rest of the file', () => {
    const layer = buildPolicyLayer([policy('models', { defaults: { model: 'claude-haiku-4-5' }, locked: ['model'] })]);

    const sut = layerConfig(defaults(), layer, { model: 'claude-fable-5', max_comments: 3 });

    expect(sut.config).toMatchObject({ model: 'claude-haiku-4-5', max_comments: 3 });
    expect(sut.setBy).toMatchObject({ model: 'policy/models', max_comments: '.kritik.yaml' });
    expect(sut.issues).toEqual([
      { field: 'model', message: 'locked by policy "models"; the file\'s value was ignored' },
    ]);
  });

  it('puts policy instructions before the repository instructions and names both as sources', () => {
    const layer = buildPolicyLayer([
      policy('docs', { priority: 1, instructions: 'Public APIs need TSDoc.' }),
      policy('security', { priority: 5, instructions: 'Flag SQL built from strings.' }),
    ]);

    const sut = layerConfig(defaults(), layer, { instructions: 'Prefer small functions.' });

    expect(sut.config.instructions).toBe(
      'Public APIs need TSDoc.\n\nFlag SQL built from strings.\n\nPrefer small functions.',
    );
    expect(sut.setBy.instructions).toBe('policy/docs + policy/security + .kritik.yaml');
  });

  it('lowers a repository asking for a bigger model and cap, and says so naming the policy', () => {
    const layer = buildPolicyLayer([
      policy('spend', { ceilings: { allowedModels: ['claude-haiku-4-5'], maxCostUsdPerReview: 0.5 } }),
    ]);

    const sut = layerConfig(defaults(), layer, { model: 'claude-opus-5', max_cost_usd: 900 }, platform);

    expect(sut.config).toMatchObject({ model: 'claude-haiku-4-5', max_cost_usd: 0.5 });
    expect(sut.setBy).toMatchObject({ model: 'ceiling/spend', max_cost_usd: 'ceiling/spend' });
    expect(sut.issues.map((i) => i.field)).toEqual(['max_cost_usd', 'model']);
    expect(sut.issues[0]!.message).toBe('$900 is above the ceiling of policy "spend"; $0.5 used');
  });
});

describe(buildPolicyLayer.name, () => {
  it('lets the higher priority set a key both policies set, and survives its own schema', () => {
    const sut = buildPolicyLayer([
      policy('high', { priority: 10, severityThreshold: 'major' }),
      policy('low', { priority: -1, severityThreshold: 'nit', budgets: { repositoryPerDayUsd: 20 } }),
    ]);

    expect(sut.values.min_severity).toEqual({ value: 'major', policy: 'high' });
    expect(sut.policies).toEqual(['low', 'high']);
    expect(sut.budgets).toEqual([
      { id: 'low/repository-per-day', policy: 'low', scope: 'repository', period: 'day', limitUsd: 20 },
    ]);
    expect(policyLayerSchema.parse(JSON.parse(JSON.stringify(sut)))).toEqual(sut);
  });
});

describe(policyMatches.name, () => {
  const target = { platform: 'github' as const, owner: 'Acme', name: 'api' };

  it.each([
    [{}, true],
    [{ repositories: ['acme/*'] }, true],
    [{ repositories: ['acme/web'] }, false],
    [{ orgs: ['acme'] }, true],
    [{ orgs: ['other'] }, false],
    [{ platforms: ['gitlab' as const] }, false],
    [{ orgs: ['acme'], repositories: ['*/web'] }, false],
  ])('selector %j matches Acme/api on GitHub: %s', (selector, expected) => {
    expect(policyMatches(reviewPolicySpecSchema.parse({ selector }), target)).toBe(expected);
  });

  it('applies only the matching policies to a repository', () => {
    const sut = policyLayerFor(
      [policy('acme', { selector: { orgs: ['acme'] } }), policy('other', { selector: { orgs: ['other'] } })],
      target,
    );

    expect(sut.policies).toEqual(['acme']);
  });
});

describe(policyProblems.name, () => {
  it('names a glob that does not compile and the field it is in', () => {
    const sut = policyProblems(reviewPolicySpecSchema.parse({ selector: { repositories: ['acme/[api'] } }));

    expect(sut).toEqual([expect.stringMatching(/^selector\.repositories: glob "acme\/\[api" is invalid/)]);
  });

  it('names defaults that break the same policy ceilings', () => {
    const sut = policyProblems(
      reviewPolicySpecSchema.parse({
        defaults: { model: 'claude-opus-5', maxCostUsdPerReview: 3 },
        ceilings: { allowedModels: ['claude-haiku-4-5'], maxCostUsdPerReview: 1 },
      }),
    );

    expect(sut).toHaveLength(2);
  });

  it('finds nothing wrong with a sound policy', () => {
    expect(policyProblems(reviewPolicySpecSchema.parse({ ignore: ['docs/**'], selector: { orgs: ['acme'] } }))).toEqual(
      [],
    );
  });
});

describe(triggerStop.name, () => {
  const layerWith = (triggers: ReviewPolicySpecInput['triggers']) =>
    buildPolicyLayer([policy('release', { priority: 5, triggers }), policy('low', { triggers: { events: ['cli'] } })])
      .triggers;
  const facts = { trigger: 'opened' as const, baseRef: 'main', title: 'Add retries', labels: ['bug'] };

  it('takes the triggers of the highest-priority policy that sets any', () => {
    expect(layerWith({ drafts: true })).toEqual({ policy: 'release', drafts: true });
  });

  it.each([
    [{ events: ['opened' as const] }, facts, undefined],
    [{ events: ['labeled' as const] }, facts, 'policy "release" does not review opened events (only labeled)'],
    [{ baseBranches: ['release/*'] }, { ...facts, baseRef: 'release/1.2' }, undefined],
    [{ baseBranches: ['release/*'] }, facts, 'policy "release" reviews only pull requests into release/*'],
    [
      { skipTitleTags: ['[WIP]'] },
      { ...facts, title: 'wip: [wip] retries' },
      'the title has "[WIP]", which policy "release" skips',
    ],
    [{ events: ['labeled' as const] }, { ...facts, trigger: 'cli' as const }, undefined],
    [{ labels: ['needs-review', 'security'] }, { ...facts, labels: ['bug', 'Security'] }, undefined],
    [{ labels: ['needs-review'] }, { ...facts, labels: ['NEEDS-REVIEW'] }, undefined],
    [{ labels: ['needs-review'] }, facts, 'policy "release" reviews only pull requests labelled "needs-review"'],
    [
      { labels: ['needs-review', 'a"b'] },
      { ...facts, labels: [] },
      'policy "release" reviews only pull requests labelled "needs-review" or "a\\"b"',
    ],
    // A label is a name, not a pattern: a prefix or a glob-looking label takes nothing else.
    [
      { labels: ['review*'] },
      { ...facts, labels: ['review-me', 'needs-review '] },
      expect.stringContaining('labelled'),
    ],
    [{ labels: ['needs-review'] }, { ...facts, trigger: 'cli' as const, labels: [] }, undefined],
  ])('with %j decides %j: %s', (triggers, pr, expected) => {
    expect(triggerStop(layerWith(triggers), pr)).toEqual(expected);
  });

  it('reviews everything when no policy sets triggers', () => {
    expect(triggerStop(buildPolicyLayer([]).triggers, facts)).toBeUndefined();
  });
});
