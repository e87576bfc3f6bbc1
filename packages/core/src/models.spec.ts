import { ConcurrencyLimit } from './concurrency.js';
import { readModelSettings } from './model-settings.js';
import {
  costOf,
  MODEL_CATALOGUE,
  mergeCatalogue,
  modelNamed,
  modelsOn,
  priceOf,
  providerModelId,
  UnknownModelError,
} from './models.js';

describe('model catalogue', () => {
  it('gives every model its own name as its Anthropic id', () => {
    for (const [name, entry] of Object.entries(MODEL_CATALOGUE)) expect(entry.ids.anthropic).toBe(name);
  });

  it('maps a model to its Bedrock and Vertex ids and back', () => {
    expect(providerModelId('claude-haiku-4-5', 'bedrock')).toBe('anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(providerModelId('claude-haiku-4-5', 'vertex')).toBe('claude-haiku-4-5@20251001');
    expect(modelNamed('claude-haiku-4-5@20251001', 'vertex')).toBe('claude-haiku-4-5');
  });

  it('refuses a model a provider does not serve, listing the ones it does', () => {
    const sut = () => providerModelId('claude-sonnet-5-5', 'bedrock');
    expect(sut).toThrow(UnknownModelError);
    expect(sut).toThrow(/provider bedrock; known: claude-haiku-4-5, claude-haiku-4-5-20251001, claude-opus-4-5/);
  });

  it('does not take a name from the object prototype for a model', () => {
    expect(priceOf('constructor').known).toBe(false);
    expect(() => providerModelId('__proto__', 'anthropic')).toThrow(UnknownModelError);
  });

  it('prices an unknown model at the dearest rate of the catalogue in use', () => {
    const merged = mergeCatalogue({
      'claude-big': { contextWindow: 1_000_000, price: { input: 1, output: 90, cacheWrite: 1, cacheRead: 1 } },
    });
    if (!('catalogue' in merged)) throw new Error(merged.problems.join());
    expect(priceOf('typo', merged.catalogue)).toEqual({ price: merged.catalogue['claude-big']!.price, known: false });
  });

  it('merges an override field by field over a known model and keeps the rest', () => {
    const merged = mergeCatalogue({
      'claude-haiku-4-5': { ids: { bedrock: 'eu.anthropic.claude-haiku-4-5-20251001-v1:0' }, price: { output: 4 } },
    });
    if (!('catalogue' in merged)) throw new Error(merged.problems.join());
    const sut = merged.catalogue['claude-haiku-4-5']!;
    expect(sut.ids).toEqual({
      anthropic: 'claude-haiku-4-5',
      bedrock: 'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
      vertex: 'claude-haiku-4-5@20251001',
    });
    expect(sut.price).toEqual({ input: 1, output: 4, cacheWrite: 1.25, cacheRead: 0.1 });
    expect(MODEL_CATALOGUE['claude-haiku-4-5']!.price.output).toBe(5);
  });

  it('names what a new model lacks and every invalid field', () => {
    expect(mergeCatalogue({ 'claude-new': { price: { input: 1 } } })).toEqual({
      problems: [
        'claude-new: a model the catalogue does not know needs contextWindow, price.output, price.cacheWrite, price.cacheRead',
      ],
    });
    expect(mergeCatalogue({ 'bad name!': {}, 'claude-haiku-4-5': { price: { input: -1 }, extra: 1 } })).toEqual({
      problems: expect.arrayContaining([
        'bad name!: Invalid key in record',
        'claude-haiku-4-5.price.input: Too small: expected number to be >=0',
        'claude-haiku-4-5: Unrecognized key: "extra"',
      ]),
    });
  });

  it('computes a cost from usage in dollars per million tokens', () => {
    const price = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };
    expect(costOf({ input: 1_000_000, output: 100_000, cacheWrite: 0, cacheRead: 1_000_000 }, price)).toBeCloseTo(
      4.8,
      12,
    );
  });

  it('lists the models of a provider in order', () => {
    expect(modelsOn('vertex')).toEqual([
      'claude-haiku-4-5',
      'claude-haiku-4-5-20251001',
      'claude-opus-4-5',
      'claude-opus-4-5-20251101',
      'claude-sonnet-4-5',
      'claude-sonnet-4-5-20250929',
    ]);
  });
});

describe(readModelSettings.name, () => {
  it('defaults to Anthropic with the built-in catalogue and no fallback', () => {
    expect(readModelSettings({})).toEqual({
      settings: { provider: 'anthropic', catalogue: MODEL_CATALOGUE, maxConcurrency: 4 },
    });
  });

  it('names every bad variable at once', () => {
    const sut = readModelSettings({
      KRITIK_MODEL_PROVIDER: 'vertex',
      KRITIK_FALLBACK_PROVIDER: 'azure',
      KRITIK_MODEL_MAX_CONCURRENCY: '0',
      ANTHROPIC_VERTEX_BASE_URL: 'not a url',
    });
    expect(sut).toEqual({
      problems: [
        'KRITIK_FALLBACK_PROVIDER must be one of anthropic, bedrock, vertex',
        'KRITIK_MODEL_REGION must be set for vertex',
        'KRITIK_VERTEX_PROJECT_ID must be set for vertex',
        'ANTHROPIC_VERTEX_BASE_URL must be a URL',
        'KRITIK_MODEL_MAX_CONCURRENCY must be an integer from 1 to 1000',
        expect.stringMatching(
          /^KRITIK_MODEL_PROVIDER: the default model "claude-sonnet-5-5" is not in the model catalogue for provider vertex/,
        ),
        'KRITIK_FALLBACK_PROVIDER needs KRITIK_FALLBACK_MODEL',
      ],
    });
  });

  it('accepts a fallback on another provider when the catalogue knows its id there', () => {
    const sut = readModelSettings({
      KRITIK_MODEL_PROVIDER: 'anthropic',
      KRITIK_FALLBACK_PROVIDER: 'bedrock',
      KRITIK_FALLBACK_MODEL: 'claude-haiku-4-5',
      KRITIK_MODEL_REGION: 'eu-west-1',
    });
    expect(sut).toMatchObject({
      settings: {
        provider: 'anthropic',
        region: 'eu-west-1',
        fallback: { provider: 'bedrock', model: 'claude-haiku-4-5' },
      },
    });
  });
});

describe(ConcurrencyLimit.name, () => {
  it('runs at most its limit at once and the rest in arrival order', async () => {
    const sut = new ConcurrencyLimit(2);
    const started: number[] = [];
    const release: (() => void)[] = [];
    const tasks = [0, 1, 2, 3].map((n) =>
      sut.run(async () => {
        started.push(n);
        await new Promise<void>((resolve) => release.push(resolve));
        return n;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(sut.load).toEqual({ active: 2, waiting: 2 });
    release[1]!();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const r of release) r();
    await new Promise((r) => setImmediate(r));
    for (const r of release) r();
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3]);
    expect(sut.load).toEqual({ active: 0, waiting: 0 });
  });

  it('frees the slot of a task that throws', async () => {
    const sut = new ConcurrencyLimit(1);
    await expect(sut.run(() => Promise.reject(new Error('429')))).rejects.toThrow('429');
    await expect(sut.run(async () => 'next')).resolves.toBe('next');
  });
});
