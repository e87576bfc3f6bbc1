// How the worker image starts the worker, read from services/worker/Dockerfile (its last stage's
// ENTRYPOINT and ENV), so the benches measure the process the image runs: same node flags, same
// environment, with this node binary for `node`. Paths in the command are relative to the
// repository root (the image's WORKDIR).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WorkerImage {
  /** node, its flags, the script. */
  readonly command: string[];
  /** Node flags of the ENTRYPOINT (between `node` and the script). */
  readonly flags: string[];
  /** The script, relative to the repository root. */
  readonly script: string;
  /** Variables the image sets (ENV of its last stage). */
  readonly env: Record<string, string>;
}

export function workerImage(checkout: string): WorkerImage {
  const dockerfile = readFileSync(join(checkout, 'services/worker/Dockerfile'), 'utf8');
  const lastStage = dockerfile.split(/^FROM /m).at(-1) ?? '';
  const lines = lastStage.split('\n');
  const entrypoint = lines.filter((l) => l.startsWith('ENTRYPOINT ')).at(-1);
  if (!entrypoint) throw new Error(`${checkout}/services/worker/Dockerfile has no ENTRYPOINT`);
  const words = JSON.parse(entrypoint.slice('ENTRYPOINT '.length)) as string[];
  const command = words.map((part, i) => (i === 0 && part === 'node' ? process.execPath : part));
  const env: Record<string, string> = {};
  for (const line of lines.filter((l) => l.startsWith('ENV '))) {
    for (const pair of line.slice('ENV '.length).trim().split(/\s+/)) {
      const at = pair.indexOf('=');
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return { command, flags: command.slice(1, -1), script: command.at(-1)!, env };
}
