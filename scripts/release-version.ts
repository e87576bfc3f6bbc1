// Keeps every version of a Kritik release in step: the workspaces' package.json files (and their
// references to each other), the lockfile, the chart (version and appVersion, regenerated from
// cdk8s) and the chart tag Flux pulls. Overlays pin no image tag: images follow the chart's appVersion.
//   tsx scripts/release-version.ts <version>     set every version
//   tsx scripts/release-version.ts --check [<v>]  fail unless all agree (and equal <v>)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const SCOPE = '@kritik/';
const IMAGE_TAGS = [
  ['backend', 'image', 'tag'],
  ['worker', 'image', 'tag'],
  ['reviewJob', 'image', 'tag'],
];

interface Found {
  readonly file: string;
  readonly key: string;
  readonly version: unknown;
}

const root = resolve(import.meta.dirname, '..');
const rel = (file: string) => relative(root, file);

function workspaceManifests(): string[] {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  return workspaces.map((dir) => join(root, dir, 'package.json'));
}

function overlayPatches(): string[] {
  const dir = join(root, 'k8s', 'overlays');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((overlay) => join(dir, overlay, 'helmrelease-values.yaml'))
    .filter((file) => existsSync(file));
}

const OCI_REPOSITORY = join(root, 'k8s', 'base', 'ocirepository.yaml');
const CHART = join(root, 'charts', 'kritik', 'Chart.yaml');

/** Every version this repository states, with where it states it. */
function collect(): Found[] {
  const found: Found[] = [];
  for (const file of workspaceManifests()) {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    found.push({ file: rel(file), key: 'version', version: manifest.version });
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
      for (const [name, range] of Object.entries((manifest[field] as Record<string, string>) ?? {})) {
        // A range (^1.2.3) names its version after the operator.
        const version = range.replace(/^[~^]/, '');
        if (name.startsWith(SCOPE)) found.push({ file: rel(file), key: `${field}.${name}`, version });
      }
    }
  }
  if (existsSync(CHART)) {
    const chart = parseDocument(readFileSync(CHART, 'utf8'));
    for (const key of ['version', 'appVersion']) found.push({ file: rel(CHART), key, version: chart.get(key) });
  }
  const source = parseDocument(readFileSync(OCI_REPOSITORY, 'utf8'));
  found.push({ file: rel(OCI_REPOSITORY), key: 'spec.ref.tag', version: source.getIn(['spec', 'ref', 'tag']) });
  return found;
}

/**
 * Image tags an overlay pins. There must be none: an overlay pins the chart version (the
 * OCIRepository tag) and the images follow the chart's appVersion, so an upgrade moves both.
 */
function pinnedImageTags(): Found[] {
  const pinned: Found[] = [];
  for (const file of overlayPatches()) {
    const patch = parseDocument(readFileSync(file, 'utf8'));
    for (const path of IMAGE_TAGS) {
      const version = patch.getIn(['spec', 'values', ...path]);
      if (version !== undefined) pinned.push({ file: rel(file), key: `spec.values.${path.join('.')}`, version });
    }
  }
  return pinned;
}

function setVersion(version: string): void {
  // Text edits rather than a JSON round trip, so each file keeps its own layout.
  for (const file of workspaceManifests()) {
    const text = readFileSync(file, 'utf8')
      .replace(/("version"\s*:\s*")[^"]*(")/, `$1${version}$2`)
      .replace(/("@kritik\/[^"]+"\s*:\s*"[~^]?)[^"]*(")/g, `$1${version}$2`);
    writeFileSync(file, text);
  }
  const editYaml = (file: string, paths: string[][]) => {
    const doc = parseDocument(readFileSync(file, 'utf8'));
    for (const path of paths) if (doc.hasIn(path)) doc.setIn(path, version);
    writeFileSync(file, doc.toString({ lineWidth: 0 }));
  };
  editYaml(OCI_REPOSITORY, [['spec', 'ref', 'tag']]);
  const run = (command: string, args: string[]) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });
  // The lockfile records each workspace's version; the chart's versions come from package.json.
  run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund']);
  run('npm', ['run', '--silent', 'build']);
  run('npm', ['run', '--silent', 'synth']);
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const [version] = argv.filter((arg) => arg !== '--check');
  if (version !== undefined && !SEMVER.test(version.replace(/^v/, ''))) {
    process.stderr.write(`release-version: '${version}' is not a SemVer version (e.g. 1.2.3)\n`);
    return 2;
  }
  const wanted = version?.replace(/^v/, '');
  if (!check) {
    if (!wanted) {
      process.stderr.write('usage: scripts/release-version.sh <version> | --check [<version>]\n');
      return 2;
    }
    setVersion(wanted);
  }
  const found = collect();
  const expected = wanted ?? found[0]?.version;
  const wrong = found.filter((f) => f.version !== expected);
  for (const f of wrong) process.stdout.write(`${f.file}: ${f.key}: ${String(f.version)}, expected ${expected}\n`);
  const pinned = pinnedImageTags();
  for (const f of pinned)
    process.stdout.write(
      `${f.file}: ${f.key}: ${String(f.version)} pins an image; remove it (images follow the chart's appVersion)\n`,
    );
  if (pinned.length > 0) return 1;
  if (wrong.length > 0) {
    process.stderr.write(`release-version: versions differ; run 'scripts/release-version.sh ${expected}'\n`);
    return 1;
  }
  process.stderr.write(`release-version: ${found.length} versions are ${expected}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
