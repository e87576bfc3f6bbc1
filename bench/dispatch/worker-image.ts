// How the worker image starts the worker, read from the checkout's Dockerfile through the same
// reader the image specs use, so the benches measure the process the image runs: same node
// flags, same environment, with this node binary for `node`. Paths in the command are relative
// to the repository root (the image's WORKDIR).
import { ServiceImage } from '@kritik/testing';

export interface WorkerImage {
  /** node, its flags, the script. */
  readonly command: string[];
  /** Node flags of the ENTRYPOINT (between `node` and the script). */
  readonly flags: string[];
  /** The script, relative to the repository root. */
  readonly script: string;
  /** Variables the image sets (ENV of its stages). */
  readonly env: Record<string, string>;
}

export function workerImage(checkout: string): WorkerImage {
  const image = ServiceImage.load(checkout, 'worker');
  const command = image.startCommand;
  return { command, flags: image.nodeFlags, script: command.at(-1) ?? '', env: image.env };
}
