import fc from 'fast-check';
import { budgetSnapshot, budgetSnapshotSchema, budgetsCovering } from './budget-snapshot.js';
import { type PolicyTarget, policyLayerFor } from './layering.js';
import { type NamedPolicy, type ReviewPolicySpecInput, reviewPolicySpecSchema } from './policy.schema.js';

const policy = (name: string, spec: ReviewPolicySpecInput): NamedPolicy => ({
  name,
  spec: reviewPolicySpecSchema.parse(spec),
});
const AT = new Date('2026-12-04T10:00:00Z');
const usd = fc.double({ min: 0.01, max: 10_000, noNaN: true });

const specArb: fc.Arbitrary<ReviewPolicySpecInput> = fc.record(
  {
    priority: fc.integer({ min: -5, max: 5 }),
    selector: fc.record(
      {
        repositories: fc.array(fc.constantFrom('acme/*', 'acme/api', 'Other/*', '*/web'), { maxLength: 2 }),
        orgs: fc.array(fc.constantFrom('acme', 'ACME', 'oth*'), { maxLength: 2 }),
        platforms: fc.uniqueArray(fc.constantFrom('github' as const, 'gitlab' as const), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
    instructions: fc.string({ minLength: 1, maxLength: 20 }),
    budgets: fc.record(
      { repositoryPerDayUsd: usd, repositoryPerMonthUsd: usd, orgPerMonthUsd: usd },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
const policiesArb = fc
  .uniqueArray(fc.constantFrom('spend', 'team-a', 'org-acme', 'docs'), { maxLength: 4 })
  .chain((names) => fc.tuple(...names.map((n) => specArb.map((s) => policy(n, s)))));
const targetArb: fc.Arbitrary<PolicyTarget> = fc.record({
  platform: fc.constantFrom('github' as const, 'gitlab' as const),
  owner: fc.constantFrom('acme', 'Acme', 'other', 'x'),
  name: fc.constantFrom('api', 'web', 'API'),
});

describe(budgetSnapshot.name, () => {
  it('covers a repository with exactly the budgets its reviews are counted in, after a trip through JSON', () => {
    fc.assert(
      fc.property(policiesArb, targetArb, (policies, target) => {
        const published = budgetSnapshotSchema.parse(JSON.parse(JSON.stringify(budgetSnapshot(policies, AT))));
        expect(budgetsCovering(published, target)).toEqual(policyLayerFor(policies, target).budgets);
      }),
    );
  });

  it('carries only the selector, priority and budgets of the policies that set a budget', () => {
    const snapshot = budgetSnapshot(
      [
        policy('spend', {
          selector: { orgs: ['acme'] },
          instructions: 'internal review notes',
          budgets: { orgPerMonthUsd: 100 },
        }),
        policy('style', { instructions: 'no budgets here' }),
      ],
      AT,
    );

    expect(snapshot).toEqual({
      publishedAt: '2026-12-04T10:00:00.000Z',
      policies: [
        { name: 'spend', spec: { selector: { orgs: ['acme'] }, priority: 0, budgets: { orgPerMonthUsd: 100 } } },
      ],
    });
  });

  it('rejects a snapshot with a hostile policy name or a negative limit', () => {
    const hostile = {
      publishedAt: AT.toISOString(),
      policies: [{ name: '<img src=x onerror=alert(1)>', spec: { budgets: { orgPerMonthUsd: 1 } } }],
    };
    const negative = {
      publishedAt: AT.toISOString(),
      policies: [{ name: 'a', spec: { budgets: { orgPerMonthUsd: -1 } } }],
    };

    expect(budgetSnapshotSchema.safeParse(hostile).success).toBe(false);
    expect(budgetSnapshotSchema.safeParse(negative).success).toBe(false);
  });
});
