// The default model and the price table that turns token usage into dollars: the reviewer's
// budget and the model gateway's meter price a call the same way.
import type { TokenUsage } from './review.js';

/**
 * The newest Sonnet in @anthropic-ai/sdk 1.12's `Model` list that the SDK does not mark
 * deprecated (its DEPRECATED_MODELS names only claude-sonnet-4-5). Override per repository with
 * `model` in .kritik.yaml.
 */
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

/** USD per million tokens. Cache writes are the 5-minute rate, the only TTL Kritik uses. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

// Anthropic's published list prices (platform.claude.com pricing page).
const SONNET_5: ModelPrice = { input: 2, output: 10, cacheWrite: 2.5, cacheRead: 0.2 };
const SONNET_4: ModelPrice = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };
const HAIKU_4_5: ModelPrice = { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 };
const OPUS_4_5: ModelPrice = { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 };
const FABLE_5: ModelPrice = { input: 10, output: 50, cacheWrite: 12.5, cacheRead: 1 };

export const PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-sonnet-5-5': SONNET_5,
  'claude-sonnet-5': SONNET_5,
  'claude-sonnet-4-6': SONNET_4,
  'claude-sonnet-4-5': SONNET_4,
  'claude-sonnet-4-5-20250929': SONNET_4,
  'claude-haiku-4-5': HAIKU_4_5,
  'claude-haiku-4-5-20251001': HAIKU_4_5,
  'claude-opus-5': OPUS_4_5,
  'claude-opus-4-8': OPUS_4_5,
  'claude-opus-4-7': OPUS_4_5,
  'claude-opus-4-6': OPUS_4_5,
  'claude-opus-4-5': OPUS_4_5,
  'claude-opus-4-5-20251101': OPUS_4_5,
  'claude-fable-5': FABLE_5,
  'claude-mythos-5': FABLE_5,
};

/**
 * An unknown model is priced like the dearest model in the table, so a typo in `model` can make
 * the budget stop early but never overspend.
 */
const UNKNOWN_MODEL_PRICE: ModelPrice = FABLE_5;

export function priceOf(model: string): { price: ModelPrice; known: boolean } {
  const price = PRICES[model];
  return price ? { price, known: true } : { price: UNKNOWN_MODEL_PRICE, known: false };
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
