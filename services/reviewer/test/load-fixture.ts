// Reads the real-diff fixtures (see fixtures/make-fixtures.sh for where each comes from).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const FIXTURES = ['go-cmp', 'cadvisor', 'x-net', 'kubectl', 'client-go'] as const;
export type FixtureName = (typeof FIXTURES)[number];

// Jest runs this file as CommonJS (__dirname is set); the bench passes its own directory.
const defaultDir = typeof __dirname === 'string' ? join(__dirname, 'fixtures') : '';
const cache = new Map<string, string>();

export function loadFixture(name: FixtureName, dir = defaultDir): string {
  const key = join(dir, name);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let text: string;
  try {
    text = readFileSync(join(dir, `${name}.diff`), 'utf8');
  } catch {
    text = gunzipSync(readFileSync(join(dir, `${name}.diff.gz`))).toString('utf8');
  }
  cache.set(key, text);
  return text;
}
