// Finds the real binaries the harness runs: first the project's own `.tools/bin` (filled by
// scripts/tools.sh), then PATH. A missing tool is an error that names the install command.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

const DEBIAN_PACKAGES: Record<string, string> = {
  'redis-server': 'redis-server',
  etcd: 'etcd-server',
};

let cachedRoot: string | undefined;

/** The repository root: the nearest directory above this module (or the cwd) holding scripts/tools.sh. */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  // Under jest (CommonJS) `__filename` is this source file; in the ESM build it does not exist.
  const starts = [typeof __filename === 'string' ? dirname(__filename) : undefined, process.cwd()];
  for (const start of starts) {
    if (!start) continue;
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'scripts', 'tools.sh')) && existsSync(join(dir, 'package.json'))) {
        cachedRoot = dir;
        return dir;
      }
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`cannot find the repository root (a directory with scripts/tools.sh) above ${process.cwd()}`);
}

/** Where scripts/tools.sh installs the pinned tools. */
export function toolsBinDir(): string {
  return join(repoRoot(), '.tools', 'bin');
}

/** The command that installs `name`, for error messages. */
export function installHint(name: string): string {
  const pkg = DEBIAN_PACKAGES[name];
  const script = "run 'npm run tools' (bash scripts/tools.sh) at the repository root";
  return pkg ? `run 'apt-get install -y ${pkg}' or ${script}` : script;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of the tool `name`, or an Error telling how to install it. */
export function requireTool(name: string): string {
  const dirs = [toolsBinDir(), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  throw new Error(`required tool '${name}' is not installed (looked in ${dirs[0]} and PATH): ${installHint(name)}`);
}
