// Where the local runner finds the reviewer: the `@kritik/reviewer` package installed beside the
// worker, run as `node <reviewer>/dist/main.js job`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function defaultReviewerCommand(cwd: string = process.cwd()): string[] {
  const require = createRequire(join(cwd, 'package.json'));
  let entry: string;
  try {
    entry = require.resolve('@kritik/reviewer');
  } catch (err) {
    throw new Error(
      `cannot find the reviewer for the local runner (${(err as Error).message.split('\n')[0]}); ` +
        'build it with `npm run build`, or set local.command in KRITIK_CONFIG',
    );
  }
  return [process.execPath, join(dirname(entry), 'main.js'), 'job'];
}
