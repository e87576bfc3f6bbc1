// Fails when a file imports a package its workspace's package.json does not declare: a runtime
// file (under src/, not a spec) needs it in dependencies, so the image's production-only install
// has it; specs, test/ and bench files, type-only imports and the files the build script runs
// may use devDependencies too. Files outside every workspace (k8s/, scripts/) answer to the root
// package.json. Prints `file: imports 'package', which <manifest> does not declare in <field>`.
//   tsx scripts/check-imports.ts
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface Import {
  readonly specifier: string;
  /** Erased by the compiler (`import type`, `export type`, `import('x').T`): never loaded at runtime. */
  readonly typeOnly: boolean;
}

/** Every module a TypeScript or JavaScript file names: static and dynamic imports, re-exports, require(). */
export function importsOf(fileName: string, text: string): Import[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) found.push({ specifier: expression.text, typeOnly: node.isTypeOnly });
    } else if (ts.isImportTypeNode(node)) {
      const literal = ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined;
      if (literal && ts.isStringLiteral(literal)) found.push({ specifier: literal.text, typeOnly: true });
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1) {
      const [first] = node.arguments;
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImport || isRequire) && first && ts.isStringLiteralLike(first)) {
        found.push({ specifier: first.text, typeOnly: false });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const BUILTINS = new Set(builtinModules);

/** The package a specifier names (`@scope/name/sub` → `@scope/name`), or undefined for relative paths and Node built-ins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
  return BUILTINS.has(name) ? undefined : name;
}

interface Manifest {
  readonly name?: string;
  readonly scripts?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly workspaces?: string[];
}

export interface Problem {
  /** The importing file, relative to the root. */
  readonly file: string;
  readonly pkg: string;
  /** The package.json that should declare it, relative to the root. */
  readonly manifest: string;
  readonly field: 'dependencies' | 'dependencies or devDependencies';
}

export function formatProblem(p: Problem): string {
  return `${p.file}: imports '${p.pkg}', which ${p.manifest} does not declare in ${p.field}`;
}

const SOURCE = /\.(c|m)?(t|j)sx?$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage', '.tools', '.git', 'fixtures', 'charts']);

function sourceFiles(dir: string, skip: ReadonlySet<string>): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.') && !skip.has(path)) {
        files.push(...sourceFiles(path, skip));
      }
    } else if (entry.isFile() && SOURCE.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/**
 * The files a package's build script runs after compiling (`node dist/x.js` → `src/x.ts`): build
 * tools, not runtime, so their imports may be devDependencies.
 */
function buildTimeFiles(dir: string, manifest: Manifest): Set<string> {
  const build = manifest.scripts?.build ?? '';
  return new Set([...build.matchAll(/\bnode\s+dist\/(\S+)\.js\b/g)].map(([, path]) => join(dir, 'src', `${path}.ts`)));
}

/** Every import in `root`'s workspaces (and its own files outside them) that the right package.json does not declare. */
export function undeclaredImports(root: string): Problem[] {
  const rootManifest = readManifest(root);
  const workspaces = (rootManifest.workspaces ?? []).map((w) => resolve(root, w));
  const scopes = [
    ...workspaces.map((dir) => ({ dir, manifest: readManifest(dir), skip: new Set<string>(), isRoot: false })),
    { dir: root, manifest: rootManifest, skip: new Set(workspaces), isRoot: true },
  ];
  const problems: Problem[] = [];
  for (const { dir, manifest, skip, isRoot } of scopes) {
    const runtime = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    const any = new Set([...runtime, ...Object.keys(manifest.devDependencies ?? {})]);
    const buildTime = buildTimeFiles(dir, manifest);
    for (const file of sourceFiles(dir, skip)) {
      const inSrc = relative(dir, file).startsWith(`src${sep}`);
      const isRuntime = !isRoot && inSrc && !/\.(spec|test)\.[cm]?[tj]sx?$/.test(file) && !buildTime.has(file);
      for (const { specifier, typeOnly } of importsOf(file, readFileSync(file, 'utf8'))) {
        const pkg = packageOf(specifier);
        if (pkg === undefined || pkg === manifest.name) continue;
        const strict = isRuntime && !typeOnly;
        if (strict ? runtime.has(pkg) : any.has(pkg)) continue;
        problems.push({
          file: relative(root, file),
          pkg,
          manifest: relative(root, join(dir, 'package.json')),
          field: strict ? 'dependencies' : 'dependencies or devDependencies',
        });
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename ?? '')) {
  const problems = undeclaredImports(resolve(import.meta.dirname, '..'));
  for (const problem of problems) console.error(formatProblem(problem));
  if (problems.length > 0) {
    console.error(`check-imports: ${problems.length} undeclared import(s)`);
    process.exit(1);
  }
  console.log('check-imports: every imported package is declared');
}
