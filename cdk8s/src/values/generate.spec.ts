import { reviewJobSettingsSchema } from '@kritik/core';
import { parse } from 'yaml';
import { valuesDefinition } from './definition.js';
import { defaultsOf, group, int, leavesOf, str } from './dsl.js';
import { parametersTable, valuesSchemaJson, valuesYaml } from './generate.js';

const SOURCE = 'cdk8s/src/values/definition.ts';

type SchemaNode = { type?: unknown; properties?: Record<string, SchemaNode>; additionalProperties?: unknown };

function objectSchemas(node: SchemaNode, path = '(root)'): { path: string; node: SchemaNode }[] {
  if (!node.properties) return [];
  return [
    { path, node },
    ...Object.entries(node.properties).flatMap(([key, child]) => objectSchemas(child, `${path}.${key}`)),
  ];
}

describe(valuesYaml.name, () => {
  it('starts with the schema modeline for editors', () => {
    const sut = valuesYaml(valuesDefinition, SOURCE);

    expect(sut.split('\n')[0]).toBe('# yaml-language-server: $schema=values.schema.json');
  });

  it('says it is generated and from where', () => {
    const sut = valuesYaml(valuesDefinition, SOURCE);

    expect(sut).toContain(`DO NOT EDIT: generated from ${SOURCE}`);
  });

  it('parses to exactly the defaults of the definition', () => {
    const sut = parse(valuesYaml(valuesDefinition, SOURCE));

    expect(sut).toEqual(defaultsOf(valuesDefinition));
  });

  it('puts the description of a value right above its key', () => {
    const small = group('root', { web: group('The web tier.', { replicas: int(2, 'How many pods.') }) });

    const sut = valuesYaml(small, SOURCE);

    expect(sut).toContain('# The web tier.\nweb:\n  # How many pods.\n  replicas: 2\n');
  });
});

describe(valuesSchemaJson.name, () => {
  it('closes every object, so an unknown key is an error', () => {
    const sut = JSON.parse(valuesSchemaJson(valuesDefinition, SOURCE)) as SchemaNode;

    const open = objectSchemas(sut).filter(({ node }) => node.additionalProperties !== false);
    expect(open.map(({ path }) => path)).toEqual([]);
  });

  it('gives each value its type, description and default', () => {
    const small = group('root', { image: str('nginx', 'The image.', { schema: { minLength: 1 } }) });

    const sut = JSON.parse(valuesSchemaJson(small, SOURCE));

    expect(sut.properties.image).toEqual({ type: 'string', minLength: 1, description: 'The image.', default: 'nginx' });
  });
});

describe(parametersTable.name, () => {
  it('has one row per value', () => {
    const sut = parametersTable(valuesDefinition);

    const rows = sut.split('\n').filter((line) => line.startsWith('| `'));
    const keys = rows.map((row) => row.split('`')[1]);
    expect(keys.sort()).toEqual(
      leavesOf(valuesDefinition)
        .map(({ path }) => path.join('.'))
        .sort(),
    );
  });

  it('escapes pipes in descriptions', () => {
    const small = group('root', { mode: str('a', 'Either a | b.') });

    const sut = parametersTable(small);

    expect(sut).toContain('Either a \\| b.');
  });
});

describe('valuesDefinition', () => {
  it('defaults the review Job settings to the defaults the worker applies', () => {
    const workerDefaults = reviewJobSettingsSchema.parse({});
    const sut = defaultsOf(valuesDefinition) as { reviewJob: Record<string, unknown> };

    const shared = Object.keys(sut.reviewJob).filter((key) => key !== 'image' && key !== 'priorityClassName');
    expect(Object.fromEntries(shared.map((key) => [key, sut.reviewJob[key]]))).toEqual(
      Object.fromEntries(shared.map((key) => [key, workerDefaults[key as keyof typeof workerDefaults]])),
    );
  });
});
