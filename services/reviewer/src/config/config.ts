// The repository's `.kritik.yaml` (always read from the base branch), validated field by field:
// a wrong field falls back to its default and is reported with its line, never stopping a review.
import {
  type ConfigKey,
  DEFAULT_MODEL,
  emptyPolicyLayer,
  layerConfig,
  type PolicyLayer,
  type RepositoryConfig,
  type ReviewCeilings,
  type Severity,
  severitySchema,
} from '@kritik/core';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { inlineCode, neutralise } from '../review/sanitize.js';

export const CONFIG_FILE = '.kritik.yaml';
/** The small model that checks findings against the code. */
export const DEFAULT_VERIFY_MODEL = 'claude-haiku-4-5';

/** Paths never worth a reviewer's tokens: lock files, vendored, generated, minified and binary files. */
export const DEFAULT_IGNORE: readonly string[] = [
  // lock files
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'Cargo.lock',
  'Gemfile.lock',
  'composer.lock',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'go.sum',
  'go.work.sum',
  'flake.lock',
  'mix.lock',
  'pubspec.lock',
  'Podfile.lock',
  'packages.lock.json',
  '.terraform.lock.hcl',
  '*.lock',
  // vendored
  '**/vendor/**',
  '**/third_party/**',
  '**/node_modules/**',
  // generated
  '**/dist/**',
  '**/__snapshots__/**',
  '*.snap',
  '*.pb.go',
  '*_pb2.py',
  '*_pb2_grpc.py',
  '*.pb.cc',
  '*.pb.h',
  '*.generated.*',
  '*.gen.go',
  'zz_generated.*',
  '*_generated.go',
  // minified and maps
  '*.min.js',
  '*.min.css',
  '*.map',
  // binary and media
  '*.{png,jpg,jpeg,gif,ico,webp,bmp,tiff,pdf,zip,gz,tgz,bz2,xz,7z,jar,war,class,so,dylib,dll,exe,bin,wasm,woff,woff2,ttf,otf,eot,mp3,mp4,mov,avi,webm,psd}',
];

const pathInstructionSchema = z
  .object({
    path: z.string().min(1, 'must be a non-empty glob'),
    instructions: z.string().min(1, 'must be non-empty text'),
  })
  .strict();

/** Every field of .kritik.yaml with its default. */
const fields = {
  instructions: z.string().max(20_000).default(''),
  path_instructions: z.array(pathInstructionSchema).default([]),
  ignore: z.array(z.string().min(1)).default([]),
  max_comments: z.number().int().min(0).max(100).default(20),
  min_severity: severitySchema.default('minor'),
  model: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.@:_-]*$/, 'must be a model id such as claude-sonnet-5-5')
    .default(DEFAULT_MODEL),
  max_input_tokens: z.number().int().min(4_000).max(1_000_000).default(60_000),
  max_cost_usd: z.number().positive().max(1_000).default(1),
  /** Unset: the platform's setting decides (see reviewsDrafts). */
  review_drafts: z.boolean().optional(),
  /** Model turns of one exploration of the checkout, the final forced submit_review included. */
  max_turns: z.number().int().min(1).max(50).default(12),
  /** Check each model finding against the code with a second, cheaper model. */
  verify: z.boolean().default(true),
  verify_model: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.@:_-]*$/, 'must be a model id such as claude-haiku-4-5')
    .default(DEFAULT_VERIFY_MODEL),
} as const;

export const kritikConfigSchema = z.object(fields).strict();
export type KritikConfig = z.infer<typeof kritikConfigSchema>;
type Field = keyof typeof fields;

export const defaultConfig = (): KritikConfig => kritikConfigSchema.parse({});

/** One problem in the config file: where it is, which field, and what was used instead. */
export interface ConfigIssue {
  line?: number;
  field: string;
  message: string;
}

export interface LoadedConfig {
  config: KritikConfig;
  issues: ConfigIssue[];
  /** Whether the repository has a config file at all. */
  found: boolean;
  /** The fields the file itself set (validly): what the policy layering may let through. */
  fields: Partial<KritikConfig>;
}

/** The config a review uses: the file layered under the platform's policies and ceilings. */
export interface EffectiveConfig extends LoadedConfig {
  /** Who set each key: `default`, `policy/<name>`, `.kritik.yaml`, `ceiling/<name>` or `platform`. */
  setBy: Record<ConfigKey, string>;
  /** The ReviewPolicies applied, lowest priority first (named in the review's footer). */
  policies: string[];
}

// The reviewer's config is the layering's config: a field added to one must be added to the other.
const _sameKeys: RepositoryConfig = {} as KritikConfig;
void _sameKeys;

const MAX_CONFIG_BYTES = 64 * 1024;

/** Validates the text of .kritik.yaml (null when the file does not exist). Never throws. */
export function loadConfig(text: string | null): LoadedConfig {
  const config = defaultConfig();
  if (text === null) return { config, issues: [], found: false, fields: {} };
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    return {
      config,
      issues: [{ field: '(file)', message: `larger than ${MAX_CONFIG_BYTES} bytes; defaults used` }],
      found: true,
      fields: {},
    };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({
      line: e.linePos?.[0]?.line,
      field: '(syntax)',
      message: `${firstLine(e.message)}; the whole file was ignored and defaults used`,
    }));
    return { config, issues, found: true, fields: {} };
  }
  const lineOf = (node: Node | null | undefined) => (node?.range ? lineCounter.linePos(node.range[0]).line : undefined);

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return { config, issues: [], found: true, fields: {} };
  }
  if (!isMap(doc.contents)) {
    return {
      config,
      issues: [{ line: lineOf(doc.contents), field: '(file)', message: 'must be a mapping of fields; defaults used' }],
      found: true,
      fields: {},
    };
  }
  const issues: ConfigIssue[] = [];
  // Keys are the repository's text: `constructor` or `__proto__` must never reach Object.prototype.
  const resolved: Record<string, unknown> = Object.assign(Object.create(null), config);
  const fieldsSet: Record<string, unknown> = Object.create(null);
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    if (!Object.hasOwn(fields, key)) {
      issues.push({
        line: lineOf(keyNode),
        field: key,
        message: `unknown field, ignored (known: ${Object.keys(fields).join(', ')})`,
      });
      continue;
    }
    const field = key as Field;
    const schema = fields[field];
    const value: unknown = pair.value === null ? null : (pair.value as Node).toJSON();
    const valueNode = (pair.value as Node | null) ?? keyNode;
    const parsed = schema.safeParse(value === null ? undefined : value);
    if (parsed.success) {
      resolved[field] = parsed.data;
      if (parsed.data !== undefined) fieldsSet[field] = parsed.data;
      continue;
    }
    // Arrays keep their valid entries; any other wrong field falls back to its default whole.
    if (Array.isArray(value) && (field === 'path_instructions' || field === 'ignore')) {
      const element = field === 'ignore' ? z.string().min(1) : pathInstructionSchema;
      const kept: unknown[] = [];
      value.forEach((item, index) => {
        const r = element.safeParse(item);
        if (r.success) kept.push(r.data);
        else {
          const inner = r.error.issues[0]!;
          const path = [field, index, ...inner.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
          issues.push({
            line: lineOf(doc.getIn(path, true) as Node | undefined) ?? lineOf(doc.getIn([field, index], true) as Node),
            field: formatPath(path),
            message: `${inner.message}; entry ignored`,
          });
        }
      });
      resolved[field] = kept;
      fieldsSet[field] = kept;
      continue;
    }
    const inner = parsed.error.issues[0]!;
    issues.push({
      line: lineOf(valueNode),
      field,
      message: `${inner.message}; ${config[field] === undefined ? "the platform's setting" : `default ${JSON.stringify(config[field])}`} used`,
    });
  }
  return { config: { ...resolved } as KritikConfig, issues, found: true, fields: { ...fieldsSet } };
}

/**
 * The config a review uses: defaults < the matching ReviewPolicies (the worker's layer) < this
 * file, for keys no policy locked < ceilings (policies' and the platform's). A repository may spend
 * less than the operator allows, never more; what the file asked for and did not get is an issue.
 */
export function applyPolicy(
  loaded: LoadedConfig,
  policy: PolicyLayer | undefined,
  ceilings: ReviewCeilings | undefined,
): EffectiveConfig {
  const layered = layerConfig(defaultConfig(), policy ?? emptyPolicyLayer(), loaded.fields, ceilings);
  return {
    ...loaded,
    config: layered.config,
    issues: [...loaded.issues, ...layered.issues],
    setBy: layered.setBy,
    policies: layered.policies,
  };
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function firstLine(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
}

export function describeIssue(issue: ConfigIssue): string {
  const where = issue.line ? `line ${issue.line}, ` : '';
  return `${CONFIG_FILE} ${where}${inlineCode(issue.field)}: ${neutralise(issue.message)}`;
}

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, major: 1, minor: 2, nit: 3 };

export const atLeast = (severity: Severity, min: Severity) => SEVERITY_RANK[severity] <= SEVERITY_RANK[min];
