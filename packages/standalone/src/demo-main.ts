#!/usr/bin/env node
// Entry point of `npm run demo`: one review, start to finish, on this machine with no accounts.
// Exit codes: 0 when the review was posted, 1 otherwise (the platform's log path is printed).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '@kritik/core';
import { runDemo } from './demo/demo.js';

try {
  const { record } = await runDemo({
    print: (text) => process.stdout.write(text),
    from: dirname(fileURLToPath(import.meta.url)),
    path: process.env.PATH ?? '',
    ...(process.env[ENV.redisServer] ? { redisServer: process.env[ENV.redisServer] } : {}),
  });
  process.exitCode = record.status === 'posted' ? 0 : 1;
} catch (error) {
  process.stderr.write(`kritik demo: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
