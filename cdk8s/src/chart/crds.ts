// The ReviewPolicy CustomResourceDefinition, generated from the zod definition the worker
// validates with (packages/core/src/policy), so the API server rejects what the worker would.
import {
  POLICY_GROUP,
  POLICY_KIND,
  POLICY_PLURAL,
  POLICY_VERSION,
  reviewPolicySpecSchema,
  reviewPolicyStatusSchema,
} from '@kritik/core';
import { stringify } from 'yaml';
import { z } from 'zod';

export const POLICY_CRD_FILE = `crds/${POLICY_PLURAL}.${POLICY_GROUP}.yaml`;

type Schema = { [key: string]: unknown };

/**
 * JSON Schema (OpenAPI 3.0 form) to a structural schema: Kubernetes forbids
 * `additionalProperties: false` (it prunes unknown fields, and `kubectl` rejects them with
 * server-side field validation), so those go; everything else is kept as zod wrote it.
 */
export function structural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(structural);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === '$schema') continue;
    out[key] = key === 'properties' ? mapValues(value as Schema, structural) : structural(value);
  }
  return out;
}

const mapValues = (o: Schema, f: (v: unknown) => unknown) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

const openApi = (schema: z.ZodType) => structural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }));

export function reviewPolicyCrd(): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${POLICY_PLURAL}.${POLICY_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'kritik', 'app.kubernetes.io/component': 'policy' },
    },
    spec: {
      group: POLICY_GROUP,
      scope: 'Namespaced',
      names: {
        kind: POLICY_KIND,
        listKind: `${POLICY_KIND}List`,
        plural: POLICY_PLURAL,
        singular: POLICY_KIND.toLowerCase(),
        shortNames: ['rpol'],
        categories: ['kritik'],
      },
      versions: [
        {
          name: POLICY_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Priority', type: 'integer', jsonPath: '.spec.priority' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
            { name: 'Matched', type: 'integer', jsonPath: '.status.matchedRepositories' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'Review rules, ceilings and budgets for the repositories its selector takes in.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openApi(reviewPolicySpecSchema),
                status: openApi(reviewPolicyStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}

export const reviewPolicyCrdYaml = (header: string) => `# ${header}\n${stringify(reviewPolicyCrd(), { lineWidth: 0 })}`;
