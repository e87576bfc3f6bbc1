// The model catalogue: every model Kritik may call, its id on each provider, its context window,
// its prices and its prompt caching. The reviewer's budget and the model gateway's meter price a
// call from it; an operator overrides it from chart values, so a price change needs no release.
import { z } from 'zod';
import type { TokenUsage } from './review.js';

/**
 * The newest Sonnet in @anthropic-ai/sdk 1.12's `Model` list that the SDK does not mark
 * deprecated (its DEPRECATED_MODELS names only claude-sonnet-4-5). Override per repository with
 * `model` in .kritik.yaml.
 */
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

/** Where the model runs: Anthropic's API, Amazon Bedrock or Google Vertex AI. */
export const MODEL_PROVIDERS = ['anthropic', 'bedrock', 'vertex'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** USD per million tokens. Cache writes are the 5-minute rate, the only TTL Kritik uses. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

export interface ModelEntry {
  /** The model's id on each provider; a provider without one does not serve it (or it is not known yet). */
  readonly ids: Readonly<Partial<Record<ModelProvider, string>>>;
  /** Input tokens the model accepts in one request. */
  readonly contextWindow: number;
  readonly price: ModelPrice;
  /** Whether `cache_control` breakpoints are honoured, and the shortest prefix the provider caches. */
  readonly promptCaching: { readonly supported: boolean; readonly minTokens: number };
}

/** Models by the name Kritik and .kritik.yaml use (Anthropic's id). */
export type ModelCatalogue = Readonly<Record<string, ModelEntry>>;

// Anthropic's published list prices (platform.claude.com pricing page); Bedrock and Vertex list
// the same on-demand prices for these models in their global endpoints.
const SONNET_5: ModelPrice = { input: 2, output: 10, cacheWrite: 2.5, cacheRead: 0.2 };
const SONNET_4: ModelPrice = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };
const HAIKU_4_5: ModelPrice = { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 };
const OPUS_4_5: ModelPrice = { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 };
const FABLE_5: ModelPrice = { input: 10, output: 50, cacheWrite: 12.5, cacheRead: 1 };

const CONTEXT = 200_000;
const model = (
  price: ModelPrice,
  minCacheTokens: number,
  ids: Partial<Record<ModelProvider, string>> = {},
): Omit<ModelEntry, 'ids'> & { ids: Partial<Record<ModelProvider, string>> } => ({
  ids,
  contextWindow: CONTEXT,
  price,
  promptCaching: { supported: true, minTokens: minCacheTokens },
});

// Provider ids are listed where Bedrock's and Vertex's model catalogues publish them; newer
// models get theirs through the chart's `model.catalogue` until a release lists them.
/** A model and its dated alias, with the ids both have on Bedrock and Vertex. */
const dated = (name: string, date: string, price: ModelPrice, minCacheTokens: number) => {
  const ids = { bedrock: `anthropic.${name}-${date}-v1:0`, vertex: `${name}@${date}` };
  return { [name]: model(price, minCacheTokens, ids), [`${name}-${date}`]: model(price, minCacheTokens, ids) };
};

const BUILT_IN: Record<string, ReturnType<typeof model>> = {
  'claude-sonnet-5-5': model(SONNET_5, 1024),
  'claude-sonnet-5': model(SONNET_5, 1024),
  'claude-sonnet-4-6': model(SONNET_4, 1024),
  ...dated('claude-sonnet-4-5', '20250929', SONNET_4, 1024),
  ...dated('claude-haiku-4-5', '20251001', HAIKU_4_5, 4096),
  'claude-opus-5': model(OPUS_4_5, 4096),
  'claude-opus-4-8': model(OPUS_4_5, 4096),
  'claude-opus-4-7': model(OPUS_4_5, 4096),
  'claude-opus-4-6': model(OPUS_4_5, 4096),
  ...dated('claude-opus-4-5', '20251101', OPUS_4_5, 4096),
  'claude-fable-5': model(FABLE_5, 4096),
  'claude-mythos-5': model(FABLE_5, 4096),
};
// Every model is served by Anthropic under its own name.
for (const [name, entry] of Object.entries(BUILT_IN)) entry.ids = { anthropic: name, ...entry.ids };

/** The catalogue a release ships; the chart's `model.catalogue` is merged over it. */
export const MODEL_CATALOGUE: ModelCatalogue = BUILT_IN;

/** Prices of the built-in catalogue by model name (what the budget spec and bench read). */
export const PRICES: Readonly<Record<string, ModelPrice>> = Object.fromEntries(
  Object.entries(MODEL_CATALOGUE).map(([name, entry]) => [name, entry.price]),
);

/**
 * An unknown model is priced like the dearest model in the catalogue, so a typo in `model` can
 * make the budget stop early but never overspend.
 */
function dearest(catalogue: ModelCatalogue): ModelPrice {
  let worst = FABLE_5;
  for (const { price } of Object.values(catalogue)) if (price.output > worst.output) worst = price;
  return worst;
}

export function priceOf(
  model: string,
  catalogue: ModelCatalogue = MODEL_CATALOGUE,
): { price: ModelPrice; known: boolean } {
  const entry = Object.hasOwn(catalogue, model) ? catalogue[model] : undefined;
  return entry ? { price: entry.price, known: true } : { price: dearest(catalogue), known: false };
}

export function costOf(usage: TokenUsage, price: ModelPrice): number {
  return (
    (usage.input * price.input +
      usage.output * price.output +
      usage.cacheWrite * price.cacheWrite +
      usage.cacheRead * price.cacheRead) /
    1_000_000
  );
}

/** A model name the catalogue does not know, or a model the provider does not serve. */
export class UnknownModelError extends Error {
  constructor(
    readonly model: string,
    readonly provider: ModelProvider,
    readonly known: readonly string[],
  ) {
    super(
      `model ${JSON.stringify(model)} is not in the model catalogue for provider ${provider}; known: ${
        known.length > 0 ? known.join(', ') : '(none: add ids under model.catalogue)'
      }`,
    );
    this.name = 'UnknownModelError';
  }
}

/** The models the provider serves, by Kritik name. */
export function modelsOn(provider: ModelProvider, catalogue: ModelCatalogue = MODEL_CATALOGUE): string[] {
  return Object.entries(catalogue)
    .filter(([, entry]) => entry.ids[provider] !== undefined)
    .map(([name]) => name)
    .sort();
}

/** The provider's id of a model (`anthropic.claude-…-v1:0` on Bedrock), or UnknownModelError. */
export function providerModelId(
  model: string,
  provider: ModelProvider,
  catalogue: ModelCatalogue = MODEL_CATALOGUE,
): string {
  const id = Object.hasOwn(catalogue, model) ? catalogue[model]?.ids[provider] : undefined;
  if (id === undefined) throw new UnknownModelError(model, provider, modelsOn(provider, catalogue));
  return id;
}

/** The Kritik name of a provider's model id (a reply names the provider's id), or undefined. */
export function modelNamed(
  id: string,
  provider: ModelProvider,
  catalogue: ModelCatalogue = MODEL_CATALOGUE,
): string | undefined {
  if (Object.hasOwn(catalogue, id) && catalogue[id]?.ids[provider] !== undefined) return id;
  return Object.entries(catalogue).find(([, entry]) => entry.ids[provider] === id)?.[0];
}

const usd = z.number().nonnegative().finite();
const priceSchema = z.object({ input: usd, output: usd, cacheWrite: usd, cacheRead: usd }).strict();
const idsSchema = z
  .object({
    anthropic: z.string().min(1).optional(),
    bedrock: z.string().min(1).optional(),
    vertex: z.string().min(1).optional(),
  })
  .strict();
const cachingSchema = z.object({ supported: z.boolean(), minTokens: z.number().int().nonnegative() }).strict();
const overrideEntrySchema = z
  .object({
    ids: idsSchema.optional(),
    contextWindow: z.number().int().positive().optional(),
    price: priceSchema.partial().optional(),
    promptCaching: cachingSchema.partial().optional(),
  })
  .strict();
const modelNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.@:_-]*$/, 'must be a model name');
/** What `model.catalogue` in the chart values holds: entries by model name, merged over the built-in ones. */
export const catalogueOverrideSchema = z.record(modelNameSchema, overrideEntrySchema);
export type CatalogueOverride = z.infer<typeof catalogueOverrideSchema>;

/**
 * The built-in catalogue with the override merged in (field by field for a known model; a new
 * model needs its context window and every price), or every problem named by its path.
 */
export function mergeCatalogue(
  override: unknown,
  base: ModelCatalogue = MODEL_CATALOGUE,
): { catalogue: ModelCatalogue } | { problems: string[] } {
  const parsed = catalogueOverrideSchema.safeParse(override);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  }
  const out: Record<string, ModelEntry> = { ...base };
  const problems: string[] = [];
  for (const [name, change] of Object.entries(parsed.data)) {
    const known = Object.hasOwn(base, name) ? base[name] : undefined;
    const price = { ...known?.price, ...change.price };
    const contextWindow = change.contextWindow ?? known?.contextWindow;
    const missing = (['input', 'output', 'cacheWrite', 'cacheRead'] as const).filter((k) => price[k] === undefined);
    if (missing.length > 0 || contextWindow === undefined) {
      problems.push(
        `${name}: a model the catalogue does not know needs ${[
          ...(contextWindow === undefined ? ['contextWindow'] : []),
          ...missing.map((k) => `price.${k}`),
        ].join(', ')}`,
      );
      continue;
    }
    out[name] = {
      ids: { anthropic: name, ...known?.ids, ...change.ids },
      contextWindow,
      price: price as ModelPrice,
      promptCaching: { supported: true, minTokens: 1024, ...known?.promptCaching, ...change.promptCaching },
    };
  }
  return problems.length > 0 ? { problems } : { catalogue: out };
}

/** Parses `KRITIK_MODEL_CATALOGUE` (JSON; unset or empty is the built-in catalogue). */
export function catalogueFromJson(text: string | undefined): { catalogue: ModelCatalogue } | { problems: string[] } {
  if (text === undefined || text.trim() === '') return { catalogue: MODEL_CATALOGUE };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problems: ['is not valid JSON'] };
  }
  return mergeCatalogue(value);
}
