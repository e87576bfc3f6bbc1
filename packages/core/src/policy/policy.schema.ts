// The ReviewPolicy resource (kritik.dev/v1alpha1): one zod definition that the worker validates
// with, the CLI reads files with, and the chart's CRD schema is generated from.
import { z } from 'zod';
import { platformSchema, severitySchema, triggerSchema } from '../review.js';

// review.ts carries a policy layer in the review payload: both sides reach across lazily, so
// neither module's evaluation order matters.
const platform = z.lazy(() => platformSchema);
const severity = z.lazy(() => severitySchema);
const trigger = z.lazy(() => triggerSchema);

export const POLICY_GROUP = 'kritik.dev';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_KIND = 'ReviewPolicy';
export const POLICY_PLURAL = 'reviewpolicies';
export const POLICY_API_VERSION = `${POLICY_GROUP}/${POLICY_VERSION}`;

/**
 * The `.kritik.yaml` keys a policy may lock: the repository's file may not change them. Their
 * names are the file's own, so an operator locks exactly what a repository would write.
 */
export const LOCKABLE_KEYS = [
  'instructions',
  'path_instructions',
  'ignore',
  'max_comments',
  'min_severity',
  'model',
  'max_input_tokens',
  'max_cost_usd',
  'review_drafts',
  'max_turns',
  'verify',
  'verify_model',
] as const;
export const lockableKeySchema = z.enum(LOCKABLE_KEYS);
export type ConfigKey = z.infer<typeof lockableKeySchema>;

const modelId = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.@:_-]*$/, 'must be a model id such as claude-sonnet-5-5');
const glob = z.string().min(1).max(300);
const text = z.string().min(1).max(20_000);
const usd = z.number().positive().max(1_000_000);

export const policySelectorSchema = z
  .object({
    /** `owner/name` globs, case-insensitive; none: every repository. */
    repositories: z.array(glob).max(200).optional(),
    /** Owners (GitHub orgs, GitLab groups) by glob; none: every owner. */
    orgs: z.array(glob).max(200).optional(),
    platforms: z.array(platform).max(2).optional(),
  })
  .strict();

export const pathInstructionSchema = z.object({ path: glob, instructions: text }).strict();

/** What a repository starts from before its `.kritik.yaml`: each may be changed unless locked. */
export const policyDefaultsSchema = z
  .object({
    model: modelId.optional(),
    maxComments: z.number().int().min(0).max(100).optional(),
    maxInputTokens: z.number().int().min(4_000).max(1_000_000).optional(),
    maxCostUsdPerReview: z.number().positive().max(1_000).optional(),
    maxTurns: z.number().int().min(1).max(50).optional(),
    reviewDrafts: z.boolean().optional(),
    verify: z.boolean().optional(),
  })
  .strict();

/** Limits no repository can exceed; of several matching policies the strictest wins. */
export const policyCeilingsSchema = z
  .object({
    allowedModels: z.array(modelId).min(1).max(50).optional(),
    maxCostUsdPerReview: z.number().positive().max(1_000).optional(),
    maxInputTokens: z.number().int().min(4_000).max(1_000_000).optional(),
    maxTurns: z.number().int().min(1).max(50).optional(),
  })
  .strict();

export const policyTriggersSchema = z
  .object({
    events: z.array(trigger).max(20).optional(),
    baseBranches: z.array(glob).max(50).optional(),
    labels: z.array(z.string().min(1).max(100)).max(50).optional(),
    /** Title tags (`[skip-review]`...) that stop a review. */
    skipTitleTags: z.array(z.string().min(1).max(100)).max(50).optional(),
    drafts: z.boolean().optional(),
  })
  .strict();

export const policyBudgetsSchema = z
  .object({
    repositoryPerDayUsd: usd.optional(),
    repositoryPerMonthUsd: usd.optional(),
    orgPerMonthUsd: usd.optional(),
  })
  .strict();

export const reviewPolicySpecSchema = z
  .object({
    selector: policySelectorSchema.default({}),
    /** Higher wins: a policy of priority 10 overrides one of 0 for the keys both set. */
    priority: z.number().int().min(-1000).max(1000).default(0),
    instructions: text.optional(),
    pathInstructions: z.array(pathInstructionSchema).max(100).optional(),
    ignore: z.array(glob).max(200).optional(),
    severityThreshold: severity.optional(),
    defaults: policyDefaultsSchema.optional(),
    triggers: policyTriggersSchema.optional(),
    ceilings: policyCeilingsSchema.optional(),
    locked: z.array(lockableKeySchema).max(LOCKABLE_KEYS.length).optional(),
    budgets: policyBudgetsSchema.optional(),
  })
  .strict();
export type ReviewPolicySpec = z.infer<typeof reviewPolicySpecSchema>;
export type ReviewPolicySpecInput = z.input<typeof reviewPolicySpecSchema>;

/** Kubernetes object names: DNS-1123 subdomain, and ≤ 63 so a name fits a label value. */
export const policyNameSchema = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label');

/** A policy as the worker holds it: its name and validated spec (metadata beyond is the API server's). */
export const reviewPolicySchema = z
  .object({
    apiVersion: z.literal(POLICY_API_VERSION),
    kind: z.literal(POLICY_KIND),
    metadata: z.object({ name: policyNameSchema, namespace: z.string().optional() }).passthrough(),
    spec: reviewPolicySpecSchema,
  })
  .passthrough();
export type ReviewPolicy = z.infer<typeof reviewPolicySchema>;

/** A named spec: the unit layering works on. */
export interface NamedPolicy {
  readonly name: string;
  readonly spec: ReviewPolicySpec;
}

/** A condition as Kubernetes conventions shape it (metav1.Condition). */
export const policyConditionSchema = z
  .object({
    type: z.string().min(1).max(316),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
    message: z.string().max(32_768),
    lastTransitionTime: z.string().datetime(),
    observedGeneration: z.number().int().min(0).optional(),
  })
  .strict();
export type PolicyCondition = z.infer<typeof policyConditionSchema>;

/** What the worker writes back: whether the policy is in use, and where it applied lately. */
export const reviewPolicyStatusSchema = z
  .object({
    observedGeneration: z.number().int().min(0).optional(),
    conditions: z.array(policyConditionSchema).max(8).optional(),
    /** How many repositories the policy applied to in the last day. */
    matchedRepositories: z.number().int().min(0).optional(),
    lastAppliedTime: z.string().datetime().optional(),
  })
  .strict();
export type ReviewPolicyStatus = z.infer<typeof reviewPolicyStatusSchema>;
