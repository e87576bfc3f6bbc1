// Label and annotation keys on the objects Kritik creates, used to list, adopt and prune them.
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  reviewId: 'kritik.dev/review-id',
  repo: 'kritik.dev/repo',
  pr: 'kritik.dev/pr',
  sha: 'kritik.dev/sha',
} as const;

export const ANNOTATIONS = {
  /** Full repository name, which a label value cannot always hold. */
  repo: 'kritik.dev/repo',
  headSha: 'kritik.dev/head-sha',
} as const;

/** The one product name used for folders, images, the chart and labels. */
export const APP_NAME = 'kritik';

export const COMPONENTS = ['backend', 'worker', 'reviewer', 'redis'] as const;
export type Component = (typeof COMPONENTS)[number];

const LABEL_VALUE_MAX = 63;

/**
 * Turns any string into a valid label value: at most 63 characters of [A-Za-z0-9._-],
 * starting and ending with an alphanumeric character.
 */
export function sanitizeLabelValue(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, LABEL_VALUE_MAX)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  return cleaned;
}
