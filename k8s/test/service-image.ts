// What can be known about a service image without a Docker engine: its Dockerfile, parsed into
// stages, and the production-only tree its last stages assemble, rebuilt in a temp directory
// from the repository's lockfile and built output, where the entrypoint can be started.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Record<string, string>;
  readonly stages: Stage[];
}

/** Parses a Dockerfile: continuation lines joined, comments dropped, stages split at FROM. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(`${current}${line}`.trim());
    current = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical.filter(Boolean)) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, image = '', name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ image, name, instructions: [] });
    } else if (stages.length === 0 && upper === 'ARG') {
      const [name = '', value = ''] = args.split('=');
      globalArgs[name] = value;
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args });
    }
  }
  return { globalArgs, stages };
}

export interface RunResult {
  readonly status: number | null;
  readonly output: string;
}

const WORKSPACE_SCOPE = '@kritik';

/** Every file below `dir` with its modification time, to prove a run wrote nothing there. */
function snapshot(dir: string): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.set(full, statSync(full).mtimeMs);
    }
  };
  walk(dir);
  return files;
}

export class ServiceImage {
  readonly dockerfile: Dockerfile;

  private constructor(
    readonly repo: string,
    readonly service: string,
  ) {
    this.dockerfile = parseDockerfile(readFileSync(join(repo, 'services', service, 'Dockerfile'), 'utf8'));
  }

  static load(repo: string, service: string): ServiceImage {
    return new ServiceImage(repo, service);
  }

  get finalStage(): Stage {
    const stage = this.dockerfile.stages.at(-1);
    if (!stage) throw new Error(`services/${this.service}/Dockerfile has no FROM`);
    return stage;
  }

  /** The arguments of every `keyword` instruction of `stage`. */
  argsOf(stage: Stage, keyword: string): string[] {
    return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
  }

  /** The image a stage starts from, with global ARG defaults substituted. */
  baseImage(stage: Stage): string {
    return stage.image.replace(/\$\{?(\w+)\}?/g, (_, name: string) => this.dockerfile.globalArgs[name] ?? '');
  }

  /** ENTRYPOINT in exec form. */
  get entrypoint(): string[] {
    const [args] = this.argsOf(this.finalStage, 'ENTRYPOINT');
    return args ? (JSON.parse(args) as string[]) : [];
  }

  /** The `npm ci --omit=dev` command of the stage the final image copies its tree from. */
  get productionInstall(): string | undefined {
    const copies = this.argsOf(this.finalStage, 'COPY');
    const from = copies.map((c) => /--from=(\S+)/.exec(c)?.[1]).find(Boolean);
    const stage = this.dockerfile.stages.find((s) => s.name === from);
    return stage && this.argsOf(stage, 'RUN').find((run) => /\bnpm ci\b.*--omit=dev/.test(run));
  }

  /**
   * Rebuilds the image's /app in `dir` as its runtime stage does: the lockfile and workspace
   * manifests, a production-only install of this service's workspace, and the built `dist/` of
   * exactly the workspace packages npm linked.
   *
   * `npm install` stands in for the Dockerfile's `npm ci`: this machine's registry mirror serves
   * no packages for other platforms, so the shared lockfile lacks their optional entries, which
   * only `npm ci`'s up-to-date check insists on. Both resolve the same production tree from it.
   */
  installProduction(dir: string): SpawnSyncReturns<string> {
    const { workspaces } = JSON.parse(readFileSync(join(this.repo, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    for (const file of ['package.json', 'package-lock.json', ...workspaces.map((w) => `${w}/package.json`)]) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(this.repo, file), join(dir, file));
    }
    const workspace =
      /--workspace[= ](\S+)/.exec(this.productionInstall ?? '')?.[1] ?? `${WORKSPACE_SCOPE}/${this.service}`;
    const args = [
      'install',
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--no-save',
      '--workspace',
      workspace,
    ];
    const result = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) return result;
    const scope = join(dir, 'node_modules', WORKSPACE_SCOPE);
    for (const name of existsSync(scope) ? readdirSync(scope) : []) {
      const packageDir = relative(dir, realpathSync(join(scope, name)));
      const built = join(this.repo, packageDir, 'dist');
      if (!existsSync(built)) throw new Error(`${packageDir}/dist is missing: run 'npm run build' first`);
      cpSync(built, join(dir, packageDir, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.tsbuildinfo') });
    }
    return result;
  }

  /**
   * Starts the entrypoint in `dir` as the image would (NODE_ENV=production, no inherited
   * environment, HOME not writable) and reports whether it wrote anything under `dir`.
   */
  start(dir: string, args: string[], env: Record<string, string> = {}): RunResult & { wrote: string[] } {
    const [command = 'node', ...rest] = this.entrypoint;
    const before = snapshot(dir);
    const result = spawnSync(command === 'node' ? process.execPath : command, [...rest, ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 30_000,
      env: { NODE_ENV: 'production', HOME: '/nonexistent', PATH: process.env.PATH ?? '', ...env },
    });
    const after = snapshot(dir);
    const wrote = [...after].filter(([file, mtime]) => before.get(file) !== mtime).map(([file]) => relative(dir, file));
    return { status: result.status, output: `${result.stdout}${result.stderr}`, wrote };
  }
}
