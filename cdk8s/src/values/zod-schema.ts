// JSON schemas of chart values taken from the zod schemas the services validate with, so a value
// the chart accepts is one the worker accepts too.
import { z } from 'zod';
import type { JsonSchema } from './dsl.js';

const SAFE_INTEGER = 9007199254740991;

/** Drops what is noise in values.schema.json: `$schema`, defaults, `propertyNames: string`, JS integer bounds. */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'default') continue;
    if (key === 'propertyNames' && JSON.stringify(value) === '{"type":"string"}') continue;
    if ((key === 'minimum' && value === -SAFE_INTEGER) || (key === 'maximum' && value === SAFE_INTEGER)) continue;
    out[key] = tidy(value);
  }
  return out;
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return tidy(z.toJSONSchema(schema, { io: 'input', target: 'draft-7' })) as JsonSchema;
}
