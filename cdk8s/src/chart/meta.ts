// Names, namespaces and labels shared by every object of the chart. Selectors use only the
// name, instance and component labels, which never change between releases.
import { APP_NAME, type Component, LABELS } from '@kritik/core';
import { expr, include, merge } from '../helm/expr.js';
import { values } from '../values/definition.js';

/** `<fullname>-<suffix>`, e.g. `my-release-kritik-backend`. */
export const nameOf = (suffix: string) => `${include('kritik.fullname')}-${suffix}`;

/** The Helm text of {@link nameOf}, for hand-written lines (`$` inside a `range`). */
export const nameTemplate = (suffix: string, context = '.') => `{{ include "kritik.fullname" ${context} }}-${suffix}`;

export const releaseNamespace = expr('.Release.Namespace | quote');
export const jobsNamespace = expr('include "kritik.jobsNamespace" . | quote');

export function selectorLabels(component: Component): Record<string, string> {
  return {
    [LABELS.name]: APP_NAME,
    [LABELS.instance]: expr('.Release.Name | quote'),
    [LABELS.component]: component,
  };
}

/**
 * Labels of an object: the selector labels, version, chart and the user's commonLabels. Objects
 * shared by all components (config, Secrets, namespace) have no component label.
 */
export function labels(component?: Component): Record<string, string> {
  const selector = component
    ? selectorLabels(component)
    : { [LABELS.name]: APP_NAME, [LABELS.instance]: expr('.Release.Name | quote') };
  return {
    ...selector,
    [LABELS.managedBy]: expr('.Release.Service | quote'),
    'app.kubernetes.io/part-of': APP_NAME,
    'app.kubernetes.io/version': expr('.Chart.AppVersion | quote'),
    'helm.sh/chart': include('kritik.chart'),
    ...merge(values.commonLabels),
  };
}

/** Metadata of a namespaced object. */
export function metadata(name: string, component?: Component, namespace = releaseNamespace) {
  return { name, namespace, labels: labels(component) };
}
