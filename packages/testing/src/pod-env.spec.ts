import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ContainerConfigError, type EnvSources, expandVars, resolveContainerEnv } from './pod-env.js';

describe(expandVars.name, () => {
  it('replaces references to defined variables', () => {
    expect(expandVars('$(A)-$(B)', { A: '1', B: '2' })).toBe('1-2');
  });

  it('keeps references to undefined variables as written', () => {
    expect(expandVars('$(MISSING)', {})).toBe('$(MISSING)');
  });

  it('turns $$ into a literal $', () => {
    expect(expandVars('$$(A) costs $$5', { A: '1' })).toBe('$(A) costs $5');
  });
});

describe(resolveContainerEnv.name, () => {
  const pod: V1Pod = { metadata: { name: 'p', namespace: 'ns', labels: { app: 'kritik' } } };
  const sources: EnvSources = {
    secret: async (_ns, name) => (name === 'present' ? { KEY: 'secret-value', 'bad key': 'x' } : undefined),
    configMap: async () => undefined,
  };
  const sut = (container: Partial<V1Container>) => resolveContainerEnv(pod, { name: 'c', ...container }, sources);

  it('skips an optional reference to a missing Secret', async () => {
    const env = await sut({
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k', optional: true } } }],
    });

    expect(env).toEqual({});
  });

  it('fails with ContainerConfigError on a missing key', async () => {
    const env = sut({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'present', key: 'nope' } } }] });

    await expect(env).rejects.toThrow(new ContainerConfigError('key "nope" in secret "present" not found (env X)'));
  });

  it('prefixes envFrom keys and skips keys that are not variable names', async () => {
    const env = await sut({ envFrom: [{ prefix: 'S_', secretRef: { name: 'present' } }] });

    expect(env).toEqual({ S_KEY: 'secret-value' });
  });

  it('reads labels through the downward API', async () => {
    const env = await sut({ env: [{ name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }] });

    expect(env).toEqual({ APP: 'kritik' });
  });
});
