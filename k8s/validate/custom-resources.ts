// Validates custom resources the test API server has no CRDs for: Flux objects against the Flux
// API schemas (@kubernetes-models/flux-cd) and Prometheus Operator objects against theirs. Types,
// enums and required fields go through the generated JSON-schema validators; unknown or misspelt
// fields through the generated TypeScript types, since the JSON schemas leave objects open.
import { resolve } from 'node:path';
import { HelmRelease } from '@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2';
import { Kustomization } from '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1';
import { Receiver } from '@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1';
import { Alert, Provider } from '@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1beta3';
import {
  Bucket,
  GitRepository,
  HelmChart,
  HelmRepository,
  OCIRepository,
} from '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1';
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import ts from 'typescript';
import { type KeyPath, pointerToKey } from './origins.js';

export interface Manifest {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
  [key: string]: unknown;
}

export interface SchemaProblem {
  /** Index of the manifest in the list given. */
  readonly index: number;
  readonly key: KeyPath;
  readonly message: string;
}

interface Model {
  /** Module path inside the package. */
  readonly package: string;
  readonly module: string;
  readonly type: string;
  create(data: Manifest): { validate(): void };
}

type ModelClass = new (data: never) => { validate(): void };

const FLUX = '@kubernetes-models/flux-cd';
const PROMETHEUS_OPERATOR = '@kubernetes-models/prometheus-operator';

const model = (module: string, type: string, Class: ModelClass, pkg = FLUX): Model => ({
  package: pkg,
  module,
  type,
  create: (data) => new Class(data as never),
});

/** The custom resource versions this repository may use, by `apiVersion kind`. */
const MODELS: Record<string, Model> = {
  'helm.toolkit.fluxcd.io/v2 HelmRelease': model('helm.toolkit.fluxcd.io/v2', 'IHelmRelease', HelmRelease),
  'kustomize.toolkit.fluxcd.io/v1 Kustomization': model(
    'kustomize.toolkit.fluxcd.io/v1',
    'IKustomization',
    Kustomization,
  ),
  'source.toolkit.fluxcd.io/v1 OCIRepository': model('source.toolkit.fluxcd.io/v1', 'IOCIRepository', OCIRepository),
  'source.toolkit.fluxcd.io/v1 HelmRepository': model('source.toolkit.fluxcd.io/v1', 'IHelmRepository', HelmRepository),
  'source.toolkit.fluxcd.io/v1 GitRepository': model('source.toolkit.fluxcd.io/v1', 'IGitRepository', GitRepository),
  'source.toolkit.fluxcd.io/v1 HelmChart': model('source.toolkit.fluxcd.io/v1', 'IHelmChart', HelmChart),
  'source.toolkit.fluxcd.io/v1 Bucket': model('source.toolkit.fluxcd.io/v1', 'IBucket', Bucket),
  'notification.toolkit.fluxcd.io/v1 Receiver': model('notification.toolkit.fluxcd.io/v1', 'IReceiver', Receiver),
  'notification.toolkit.fluxcd.io/v1beta3 Alert': model('notification.toolkit.fluxcd.io/v1beta3', 'IAlert', Alert),
  'notification.toolkit.fluxcd.io/v1beta3 Provider': model(
    'notification.toolkit.fluxcd.io/v1beta3',
    'IProvider',
    Provider,
  ),
  'monitoring.coreos.com/v1 ServiceMonitor': model(
    'monitoring.coreos.com/v1',
    'IServiceMonitor',
    ServiceMonitor,
    PROMETHEUS_OPERATOR,
  ),
  'monitoring.coreos.com/v1 PodMonitor': model(
    'monitoring.coreos.com/v1',
    'IPodMonitor',
    PodMonitor,
    PROMETHEUS_OPERATOR,
  ),
  'monitoring.coreos.com/v1 PrometheusRule': model(
    'monitoring.coreos.com/v1',
    'IPrometheusRule',
    PrometheusRule,
    PROMETHEUS_OPERATOR,
  ),
};

const groupOf = (apiVersion: unknown) => String(apiVersion).split('/')[0] ?? '';
const KNOWN_GROUPS = new Set(Object.keys(MODELS).map(groupOf));

export const isFluxObject = (m: Manifest) => groupOf(m.apiVersion).endsWith('.toolkit.fluxcd.io');

/** Whether `m` belongs to an API group whose schemas this module knows (Flux, Prometheus Operator). */
export const hasKnownSchema = (m: Manifest) => KNOWN_GROUPS.has(groupOf(m.apiVersion));

interface AjvError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

function schemaErrors(index: number, manifest: Manifest, schema: Model): SchemaProblem[] {
  try {
    schema.create(manifest).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!errors) return [{ index, key: [], message: (error as Error).message }];
    return errors.map((e) => {
      const key = pointerToKey(e.instancePath);
      const missing = e.params.missingProperty;
      return typeof missing === 'string'
        ? { index, key: [...key], message: `required field '${missing}' is missing` }
        : {
            index,
            key,
            message: `${e.message ?? e.keyword}${e.params.allowedValues ? ` (allowed: ${e.params.allowedValues})` : ''}`,
          };
    });
  }
}

/** The key path of the object-literal node at `position` inside `root`. */
function keyAt(root: ts.Expression, position: number): KeyPath {
  const key: (string | number)[] = [];
  let node: ts.Node = root;
  for (;;) {
    const child: ts.Node | undefined = node
      .getChildren()
      .find((c) => c.getStart() <= position && position < c.getEnd());
    if (!child) return key;
    if (ts.isPropertyAssignment(child) && (ts.isStringLiteral(child.name) || ts.isIdentifier(child.name))) {
      key.push(child.name.text);
    } else if (ts.isArrayLiteralExpression(node) && node.elements.includes(child as ts.Expression)) {
      key.push(node.elements.indexOf(child as ts.Expression));
    }
    node = child;
  }
}

/** A TypeScript literal of `value`; keys are bare where they can be, so TypeScript suggests spellings. */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  const entries = Object.entries(value).map(
    ([key, child]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}:${literal(child)}`,
  );
  return `{${entries.join(',')}}`;
}

/**
 * Type-checks each object against its generated TypeScript interface; excess-property checks
 * catch fields the API server would silently drop (`remedation:` instead of `remediation:`).
 */
function typeErrors(checked: { index: number; manifest: Manifest; schema: Model }[]): SchemaProblem[] {
  if (checked.length === 0) return [];
  // A virtual module beside this one, so the packages resolve as they do for real code.
  const fileName = resolve(import.meta.dirname, '__custom_resource_types__.ts');
  const typeOf = ({ schema }: { schema: Model }) => `${schema.package}/${schema.module}|${schema.type}`;
  const types = [...new Set(checked.map(typeOf))];
  const imports = types.map((entry, i) => {
    const [module, type] = entry.split('|');
    return `import type { ${type} as T${i} } from '${module}';`;
  });
  const declarations = checked.map(
    (entry, i) => `export const o${i}: T${types.indexOf(typeOf(entry))} = ${literal(entry.manifest)};`,
  );
  const text = [...imports, ...declarations].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const { getSourceFile, fileExists } = host;
  host.getSourceFile = (name, ...rest) => (name === fileName ? source : getSourceFile.call(host, name, ...rest));
  host.fileExists = (name) => name === fileName || fileExists.call(host, name);
  const program = ts.createProgram([fileName], options, host);
  const initializers = source.statements
    .filter(ts.isVariableStatement)
    .map((statement) => statement.declarationList.declarations[0]?.initializer)
    .filter((init): init is ts.Expression => init !== undefined);
  const problems: SchemaProblem[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file !== source || diagnostic.start === undefined) {
      throw new Error(`cannot load the custom resource types: ${message}`);
    }
    // Types, enums and required fields are the JSON schemas' job; only unknown fields are left.
    const unknown = /known properties, (?:and|but) '"?([^"']+?)"?' does not exist/.exec(message);
    const suggestion = /Did you mean to write '"?([^"']+?)"?'\?/.exec(message);
    const start = diagnostic.start;
    const at = initializers.findIndex((init) => init.getStart() <= start && start < init.getEnd());
    const entry = checked[at];
    const initializer = initializers[at];
    if (!unknown || !entry || !initializer) continue;
    problems.push({
      index: entry.index,
      key: keyAt(initializer, start),
      message: `unknown field '${unknown[1]}'${suggestion ? ` (did you mean '${suggestion[1]}'?)` : ''}, not in the ${entry.manifest.apiVersion} API`,
    });
  }
  return problems;
}

/** Problems of every Flux or Prometheus Operator object in `manifests` (others are ignored). */
export function validateCustomResources(manifests: readonly Manifest[]): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const checked: { index: number; manifest: Manifest; schema: Model }[] = [];
  manifests.forEach((manifest, index) => {
    if (!hasKnownSchema(manifest)) return;
    const schema = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
    if (!schema) {
      const known = Object.keys(MODELS)
        .filter((k) => k.endsWith(` ${String(manifest.kind)}`))
        .map((k) => k.split(' ')[0]);
      problems.push({
        index,
        key: ['apiVersion'],
        message: `${manifest.apiVersion} ${manifest.kind} is not a supported API version${known.length ? ` (use ${known.join(' or ')})` : ''}`,
      });
      return;
    }
    problems.push(...schemaErrors(index, manifest, schema));
    checked.push({ index, manifest, schema });
  });
  return [...problems, ...typeErrors(checked)];
}
