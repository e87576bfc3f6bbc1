import { evaluatePolicy, nextStatus, type PolicyObject } from './policy-evaluation.js';

const now = new Date('2026-12-04T10:00:00Z');
const object = (spec: unknown, status?: PolicyObject['status']): PolicyObject => ({
  metadata: { name: 'security', generation: 3 },
  spec,
  ...(status ? { status } : {}),
});

describe(evaluatePolicy.name, () => {
  it('uses a sound policy and says it is applied', () => {
    const sut = evaluatePolicy(object({ instructions: 'Be strict.' }));

    expect(sut.policy?.spec.instructions).toBe('Be strict.');
    expect(sut.condition).toMatchObject({ status: 'True', reason: 'Applied' });
  });

  it('leaves out a policy with a bad glob and names it', () => {
    const sut = evaluatePolicy(object({ ignore: ['src/{a,b'] }));

    expect(sut.policy).toBeUndefined();
    expect(sut.condition).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
      message: expect.stringContaining('src/{a,b'),
    });
  });

  it('leaves out a spec the API server would have refused (stored before the CRD was tightened)', () => {
    const sut = evaluatePolicy(object({ priority: 'high' }));

    expect(sut.condition).toMatchObject({ status: 'False', message: expect.stringMatching(/^spec\.priority: /) });
  });
});

describe(nextStatus.name, () => {
  const applied = evaluatePolicy(object({}));

  it('writes observedGeneration, the Ready condition and the recent matches the first time', () => {
    expect(nextStatus(object({}), applied, 4, now)).toEqual({
      observedGeneration: 3,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Applied',
          message: applied.condition.message,
          lastTransitionTime: now.toISOString(),
          observedGeneration: 3,
        },
      ],
      matchedRepositories: 4,
    });
  });

  it('writes nothing when the status says it all already', () => {
    const status = nextStatus(object({}), applied, 4, now)!;

    expect(nextStatus(object({}, status), applied, 4, new Date(now.getTime() + 60_000))).toBeUndefined();
  });

  it('keeps the transition time when only the match count changes', () => {
    const status = nextStatus(object({}), applied, 4, now)!;

    const sut = nextStatus(object({}, status), applied, 5, new Date(now.getTime() + 60_000));

    expect(sut?.conditions?.[0]?.lastTransitionTime).toBe(now.toISOString());
    expect(sut?.matchedRepositories).toBe(5);
  });
});
