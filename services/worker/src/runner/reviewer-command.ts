// Where the local runner finds the reviewer: the `@kritik/reviewer` package installed beside the
// worker, run as `node <reviewer>/dist/main.js job`. Only a development dependency of the worker:
// kritik-serve (packages/standalone) and a checkout bring it; the worker image does not (reviews
// there run as Jobs of the reviewer image), so it carries neither the reviewer nor the model SDK.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Resolves from the running program (the worker's main.js), then from the working directory. */
export function defaultReviewerCommand(
  from: readonly string[] = [process.argv[1] ?? '', join(process.cwd(), 'package.json')],
): string[] {
  let lastError: unknown;
  for (const origin of from.filter(Boolean)) {
    try {
      const entry = createRequire(origin).resolve('@kritik/reviewer');
      return [process.execPath, join(dirname(entry), 'main.js'), 'job'];
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(
    `cannot find the reviewer for the local runner (${String((lastError as Error)?.message).split('\n')[0]}); ` +
      'build it with `npm run build`, or set local.command in KRITIK_CONFIG',
  );
}
