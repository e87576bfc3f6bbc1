// Finds the real binaries the harness runs: first the project's own `.tools/bin` (filled by
// scripts/tools.sh), then PATH. A missing tool is an error that names the install command.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
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

/**
 * Resolves `name` like execvp: a name with a slash is a path (relative to `cwd`), any other is
 * looked up in the `path` list of directories. Its absolute path, or undefined.
 */
export function findExecutable(name: string, path: string, cwd = process.cwd()): string | undefined {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) {
    const file = resolve(cwd, name);
    return executable(file) ? file : undefined;
  }
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(executable);
}

/** Absolute path of the tool `name`, or an Error telling how to install it. */
export function requireTool(name: string): string {
  const found = findExecutable(name, [toolsBinDir(), process.env.PATH ?? ''].join(delimiter));
  if (found) return found;
  throw new Error(
    `required tool '${name}' is not installed (looked in ${toolsBinDir()} and PATH): ${installHint(name)}`,
  );
}
