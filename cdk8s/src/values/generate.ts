// Writes the three views of the values definition: the commented values.yaml, values.schema.json
// (closed objects, so an unknown key fails) and the parameters table of the chart README.
import { stringify } from 'yaml';
import type { Group, JsonSchema, Leaf, Node } from './dsl.js';

const YAML_OPTIONS = { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false, version: '1.1' } as const;

function comment(text: string, pad: string): string[] {
  return text.split('\n').map((line) => `${pad}# ${line}`.trimEnd());
}

function valuesLines(node: Group<Record<string, Node>>, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const out: string[] = [];
  for (const [key, child] of Object.entries(node.children)) {
    if (depth === 0 && out.length > 0) out.push('');
    out.push(...comment(child.description, pad));
    if (child.kind === 'group') {
      out.push(`${pad}${key}:`, ...valuesLines(child, depth + 1));
    } else {
      const text = stringify({ [key]: child.default }, YAML_OPTIONS).replace(/\n$/, '');
      out.push(...text.split('\n').map((line) => pad + line));
    }
  }
  return out;
}

export function valuesYaml(definition: Group<Record<string, Node>>, source: string): string {
  return [
    '# yaml-language-server: $schema=values.schema.json',
    `# DO NOT EDIT: generated from ${source} by \`npm run synth\`.`,
    '# Default values of the Kritik chart; the README lists every key, values.schema.json checks them.',
    '',
    ...valuesLines(definition, 0),
    '',
  ].join('\n');
}

function schemaOf(node: Node): JsonSchema {
  if (node.kind === 'leaf') return { ...node.schema, description: node.description, default: node.default };
  return {
    type: 'object',
    description: node.description,
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(node.children).map(([key, child]) => [key, schemaOf(child)])),
  };
}

export function valuesSchemaJson(definition: Group<Record<string, Node>>, source: string): string {
  const { description: _description, ...root } = schemaOf(definition);
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: `DO NOT EDIT: generated from ${source} by \`npm run synth\`.`,
    title: 'Values of the Kritik chart',
    ...root,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function defaultCell(leaf: Leaf<unknown>): string {
  return `\`${cell(JSON.stringify(leaf.default))}\``;
}

/** One table per top-level key: `| Key | Type | Default | Description |`. */
export function parametersTable(definition: Group<Record<string, Node>>): string {
  const sections: string[] = [];
  const rows = (node: Node, path: string[]): string[] => {
    if (node.kind === 'leaf') {
      return [`| \`${path.join('.')}\` | ${node.typeName} | ${defaultCell(node)} | ${cell(node.description)} |`];
    }
    return Object.entries(node.children).flatMap(([key, child]) => rows(child, [...path, key]));
  };
  const header = ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |'];
  const loose: string[] = [];
  for (const [key, child] of Object.entries(definition.children)) {
    if (child.kind === 'leaf') {
      loose.push(...rows(child, [key]));
      continue;
    }
    sections.push(`### ${key}`, '', child.description, '', ...header, ...rows(child, [key]), '');
  }
  return ['### General', '', ...header, ...loose, '', ...sections].join('\n').replace(/\n+$/, '\n');
}
