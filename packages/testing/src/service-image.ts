// What can be known about a service image without a Docker engine: services/Dockerfile, parsed
// into stages for one SERVICE build argument, and the production-only tree its last stages
// assemble, rebuilt in a temp directory from the repository's lockfile and built output, where
// the entrypoint can be started. The one reader of the Dockerfile for specs, drills and benches.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
function parseDockerfile(text: string): Dockerfile {
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

/** The Dockerfile every service image is built from, relative to the repository root. */
export const SERVICES_DOCKERFILE = 'services/Dockerfile';

export class ServiceImage {
  readonly dockerfile: Dockerfile;
  /** Where the Dockerfile was read, relative to the repository. */
  readonly file: string;

  private constructor(
    readonly repo: string,
    readonly service: string,
  ) {
    // A checkout from before the one Dockerfile (a bench's baseline commit) had one per service.
    const perService = `services/${service}/Dockerfile`;
    this.file = existsSync(join(repo, SERVICES_DOCKERFILE)) ? SERVICES_DOCKERFILE : perService;
    this.dockerfile = parseDockerfile(readFileSync(join(repo, this.file), 'utf8'));
  }

  static load(repo: string, service: string): ServiceImage {
    return new ServiceImage(repo, service);
  }

  /** `text` with the build arguments (SERVICE) and the global ARG defaults substituted. */
  private expand(text: string): string {
    const args: Record<string, string> = { ...this.dockerfile.globalArgs, SERVICE: this.service };
    return text.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => args[name] ?? whole);
  }

  private stageNamed(name: string): Stage | undefined {
    return this.dockerfile.stages.find((stage) => stage.name === name);
  }

  /** The last stage: the one `docker build` without `--target` produces. */
  get finalStage(): Stage {
    const stage = this.dockerfile.stages.at(-1);
    if (!stage) throw new Error(`${this.file} has no FROM`);
    return stage;
  }

  /**
   * The stages the image is made of, base first: the final stage and, for as long as a stage
   * starts from another stage (`FROM ${SERVICE}`, `FROM runtime`), that stage too.
   */
  get imageStages(): Stage[] {
    const chain: Stage[] = [];
    for (let stage: Stage | undefined = this.finalStage; stage; stage = this.stageNamed(this.expand(stage.image))) {
      if (chain.includes(stage)) throw new Error(`${this.file}: stage ${stage.name} starts from itself`);
      chain.unshift(stage);
    }
    return chain;
  }

  /** The arguments of every `keyword` instruction of `stages`, build arguments substituted. */
  argsOf(stages: Stage | readonly Stage[], keyword: string): string[] {
    return [stages]
      .flat()
      .flatMap((stage) => stage.instructions)
      .filter((i) => i.keyword === keyword)
      .map((i) => this.expand(i.args));
  }

  /** The image a stage starts from, through the stages it builds on. */
  baseImage(stage: Stage): string {
    const image = this.expand(stage.image);
    const base = this.stageNamed(image);
    return base && base !== stage ? this.baseImage(base) : image;
  }

  /** ENTRYPOINT in exec form. */
  get entrypoint(): string[] {
    const args = this.argsOf(this.imageStages, 'ENTRYPOINT').at(-1);
    return args ? (JSON.parse(args) as string[]) : [];
  }

  /** CMD in exec form: the arguments when the container is given none. */
  get command(): string[] {
    const args = this.argsOf(this.imageStages, 'CMD').at(-1);
    return args ? (JSON.parse(args) as string[]) : [];
  }

  /** Node flags of the ENTRYPOINT (between `node` and the script). */
  get nodeFlags(): string[] {
    return this.entrypoint.slice(1, -1);
  }

  /** Variables the image sets (every ENV of its stages). */
  get env(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of this.argsOf(this.imageStages, 'ENV')) {
      for (const pair of line.trim().split(/\s+/)) {
        const at = pair.indexOf('=');
        if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
      }
    }
    return env;
  }

  /**
   * What the container runs when given no command or arguments: ENTRYPOINT then CMD, with this
   * node binary for `node`, paths relative to the image's WORKDIR (the repository root).
   */
  get startCommand(): string[] {
    const command = [...this.entrypoint, ...this.command];
    if (command.length === 0)
      throw new Error(`${this.file} gives the ${this.service} image neither ENTRYPOINT nor CMD`);
    return command.map((part, i) => (i === 0 && part === 'node' ? process.execPath : part));
  }

  /** The stage the final image copies its /app tree from. */
  get runtimeTreeStage(): Stage | undefined {
    const from = this.argsOf(this.imageStages, 'COPY')
      .map((c) => /--from=(\S+)/.exec(c)?.[1])
      .find(Boolean);
    return from === undefined ? undefined : this.stageNamed(from);
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
    if (!stage) return { status: 1, output: `${this.file} copies /app from no stage for ${this.service}` };
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
