// What can be known about a service image without a Docker engine: its Dockerfile, parsed into
// stages, and the production-only tree its last stages assemble, rebuilt in a temp directory
// from the repository's lockfile and built output, where the entrypoint can be started.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

  /** CMD in exec form: the arguments when the container is given none. */
  get command(): string[] {
    const [args] = this.argsOf(this.finalStage, 'CMD');
    return args ? (JSON.parse(args) as string[]) : [];
  }

  /** The stage the final image copies its /app tree from. */
  get runtimeTreeStage(): Stage | undefined {
    const from = this.argsOf(this.finalStage, 'COPY')
      .map((c) => /--from=(\S+)/.exec(c)?.[1])
      .find(Boolean);
    return this.dockerfile.stages.find((s) => s.name === from);
  }

  /** The `npm ci --omit=dev` command of that stage. */
  get productionInstall(): string | undefined {
    const stage = this.runtimeTreeStage;
    return stage && this.argsOf(stage, 'RUN').find((run) => /\bnpm ci\b.*--omit=dev/.test(run));
  }

  /**
   * Rebuilds the image's /app in `dir` by running the RUN commands of its runtime-tree stage
   * there, after copying what that stage copies: the lockfile and the workspace manifests, and
   * (for `/dist/<workspace>/dist`) this repository's built output.
   *
   * `npm install --no-save` stands in for the Dockerfile's `npm ci`: this machine's registry
   * mirror serves no packages for other platforms, so the shared lockfile lacks their optional
   * entries, which only `npm ci`'s up-to-date check insists on. Both resolve the same
   * production tree from the lockfile.
   */
  installProduction(dir: string): { status: number | null; output: string } {
    const stage = this.runtimeTreeStage;
    if (!stage) return { status: 1, output: `services/${this.service}/Dockerfile copies /app from no stage` };
    const { workspaces } = JSON.parse(readFileSync(join(this.repo, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    for (const file of ['package.json', 'package-lock.json', ...workspaces.map((w) => `${w}/package.json`)]) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(this.repo, file), join(dir, file));
    }
    let output = '';
    for (const run of this.argsOf(stage, 'RUN')) {
      const command = run
        .replace(/^(--\S+\s+)+/, '')
        .replace(/\bnpm ci\b/g, 'npm install --no-save --prefer-offline')
        .replaceAll('/dist/', `${this.repo}/`);
      const result = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      output += `$ ${run}\n${result.stdout}${result.stderr}`;
      if (result.status !== 0) return { status: result.status, output };
    }
    return { status: 0, output };
  }

  /**
   * Starts the entrypoint in `dir` as the image would (NODE_ENV=production, no inherited
   * environment, HOME not writable) and reports whether it wrote anything under `dir`.
   */
  start(dir: string, args = this.command, env: Record<string, string> = {}): RunResult & { wrote: string[] } {
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
