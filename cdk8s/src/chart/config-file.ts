// The non-secret config file of backend and worker (KRITIK_CONFIG): the review Job settings in
// the shape of reviewJobSettingsSchema, plus the free-form `config` value.
import { LABELS, type ReviewJobSettings } from '@kritik/core';
import { expr, merge, value, yaml } from '../helm/expr.js';
import { values } from '../values/definition.js';

export const CONFIG_DIR = '/etc/kritik';

/**
 * Backend and worker each read their own file (one ConfigMap, two keys): the worker's schema is
 * closed, so settings of the backend in its file would stop it.
 */
export const configFileOf = (component: 'backend' | 'worker') => ({
  key: `${component}.yaml`,
  path: `${CONFIG_DIR}/${component}.yaml`,
  helper: `kritik.${component}Config`,
});

type Rendered<T> = { [K in keyof T]: unknown };

/** The review Job settings: every key of reviewJobSettingsSchema, each filled from values. */
export function reviewJobSettings(): Rendered<Required<ReviewJobSettings>> {
  const v = values.reviewJob;
  return {
    image: expr(`include "kritik.image" (list . ${v.image}) | quote`),
    imagePullPolicy: value(v.image.pullPolicy),
    command: yaml(v.command),
    activeDeadlineSeconds: value(v.activeDeadlineSeconds),
    ttlSecondsAfterFinished: value(v.ttlSecondsAfterFinished),
    tmpSizeLimit: value(v.tmpSizeLimit),
    workspaceSizeLimit: value(v.workspaceSizeLimit),
    checkoutMaxBytes: value(v.checkoutMaxBytes),
    checkoutMaxFiles: value(v.checkoutMaxFiles),
    checkoutMaxFileBytes: value(v.checkoutMaxFileBytes),
    runAsUser: value(v.runAsUser),
    runAsGroup: value(v.runAsGroup),
    fsGroup: value(v.fsGroup),
    serviceAccountName: expr('include "kritik.reviewerServiceAccountName" . | quote'),
    anthropicSecretName: expr('include "kritik.anthropicSecretName" . | quote'),
    resources: yaml(v.resources),
    nodeSelector: yaml(v.nodeSelector),
    tolerations: yaml(v.tolerations),
    affinity: yaml(v.affinity),
    imagePullSecrets: yaml(values.imagePullSecrets),
    annotations: yaml(v.annotations),
    // The instance label lets the chart's NetworkPolicy tell this release's review pods apart.
    labels: { ...merge(v.labels), [LABELS.instance]: expr('.Release.Name | quote') },
    priorityClassName: value(v.priorityClassName),
    env: yaml(v.env),
    ceilings: { maxCostUsd: value(v.ceilings.maxCostUsd), maxInputTokens: value(v.ceilings.maxInputTokens) },
    caBundle: {
      secret: value(values.caBundle.secret),
      configMap: value(values.caBundle.configMap),
      key: value(values.caBundle.key),
    },
  };
}

/** The worker's config file, rendered into the `kritik.workerConfig` helper. */
export function workerConfigFile(): Record<string, unknown> {
  return { reviewJob: reviewJobSettings(), ...merge(values.worker.config) };
}
