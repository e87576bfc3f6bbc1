// Stage 3, workspace: the code the model may explore. A local directory (`--repo`), or the pull
// request's head tree checked out from the host's archive. Any failure or limit degrades the review
// to a smaller scope, said in the review; it never fails it.
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PathMatcher } from '@kritik/core';
import type { CodeHost } from '../../code-host/code-host.js';
import { type CheckoutLimits, describeCheckout, extractTarball } from '../../repo/checkout.js';
import { RepoTools } from '../../repo/tools.js';
import type { PullTarget } from './gather.js';

export interface Workspace {
  tools: RepoTools | null;
  notes: string[];
  /** Removes a checkout this stage made; a given directory is left alone. */
  dispose(): Promise<void>;
}

export interface WorkspaceInput {
  /** An existing directory to explore as it is. */
  repoDir?: string;
  /** Where to check the pull request out (the Job's workspace volume, a temp dir for the CLI). */
  checkoutParent?: string;
  gh?: CodeHost;
  target?: Pick<PullTarget, 'repo' | 'headSha'>;
  limits?: CheckoutLimits;
  ignored: PathMatcher;
  progress: (m: string) => void;
}

const none = (notes: string[] = []): Workspace => ({ tools: null, notes, dispose: async () => {} });

export async function prepareWorkspace(input: WorkspaceInput): Promise<Workspace> {
  if (input.repoDir !== undefined) {
    try {
      const tools = await RepoTools.open(input.repoDir, { ignore: input.ignored });
      return { tools, notes: [], dispose: async () => {} };
    } catch (error) {
      return none([
        `The repository directory could not be opened (${(error as NodeJS.ErrnoException).code ?? 'error'}); the review saw the diff only.`,
      ]);
    }
  }
  if (!input.checkoutParent || !input.gh || !input.target) return none();
  const { gh, target } = input;
  const started = Date.now();
  let dir: string | undefined;
  const dispose = async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    dir = await mkdtemp(path.join(input.checkoutParent, 'checkout-'));
    input.progress(`checking out ${target.headSha.slice(0, 7)}`);
    const archive = await gh.tarball(target.repo, target.headSha);
    const checkout = await extractTarball(archive, dir, {
      ...(input.limits ? { limits: input.limits } : {}),
      ignore: input.ignored,
    });
    const seconds = (Date.now() - started) / 1000;
    input.progress(`checkout: ${checkout.files} file(s), ${checkout.bytes} bytes in ${seconds.toFixed(1)} s`);
    const partial = describeCheckout(checkout);
    const tools = await RepoTools.open(dir, { ignore: input.ignored });
    return { tools, notes: partial ? [`${partial}.`] : [], dispose };
  } catch (error) {
    await dispose().catch(() => {});
    const reason = (error as Error).message.slice(0, 200);
    input.progress(`checkout failed: ${reason}`);
    return none([`The repository could not be checked out (${reason}); the review saw the diff only.`]);
  }
}
