#!/usr/bin/env node
// Entry point of `npm run demo`: one review, start to finish, on this machine with no accounts.
// Exit codes: 0 when the review was posted, 1 otherwise (the platform's log path is printed).
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENV } from '@kritik/core';
import { runDemo } from './demo/demo.js';

// --save <file>: also write what was posted as JSON (scripts/screenshots.ts renders it).
const { values } = parseArgs({ options: { save: { type: 'string' } } });
try {
  const { record, posted } = await runDemo({
    print: (text) => process.stdout.write(text),
    from: dirname(fileURLToPath(import.meta.url)),
    path: process.env.PATH ?? '',
    ...(process.env[ENV.redisServer] ? { redisServer: process.env[ENV.redisServer] } : {}),
  });
  if (values.save) writeFileSync(values.save, `${JSON.stringify(posted, null, 2)}\n`);
  process.exitCode = record.status === 'posted' ? 0 : 1;
} catch (error) {
  process.stderr.write(`kritik demo: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
