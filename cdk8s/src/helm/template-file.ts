// One chart template file as a cdk8s Chart: its objects are printed in order, each document
// optionally wrapped in `{{- if }}`, after optional Helm lines that come first (validation).
import { ApiObject, Chart } from 'cdk8s';
import type { Construct, IConstruct } from 'constructs';
import { renderValue } from './render.js';

export interface TemplateFileProps {
  /** Helm lines printed before the first document, e.g. `{{- include "kritik.validate" . }}`. */
  readonly preamble?: readonly string[];
  /**
   * A Helm condition for the whole file.
   * @default - always rendered
   */
  readonly condition?: string;
}

const conditions = new WeakMap<ApiObject, string>();

/** Renders the object of `construct` only when the Helm `condition` holds. */
export function onlyIf(construct: IConstruct, condition: unknown): void {
  conditions.set(ApiObject.of(construct), String(condition));
}

export class TemplateFile extends Chart {
  readonly preamble: readonly string[];
  readonly condition?: string;

  constructor(
    scope: Construct,
    /** File name under templates/, e.g. `backend.yaml`. */
    readonly fileName: string,
    props: TemplateFileProps = {},
  ) {
    super(scope, fileName.replace(/\.yaml$/, ''), { disableResourceNameHashes: true });
    this.preamble = props.preamble ?? [];
    this.condition = props.condition;
  }

  /** Every API object of this file, nested ones included, in construction order. */
  objects(): ApiObject[] {
    return this.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c));
  }

  /** The template text (ending in a newline) below the given header comment. */
  render(header: string): string {
    const out = [`{{- /* ${header} */}}`, ...this.preamble];
    if (this.condition) out.push(`{{- if ${this.condition} }}`);
    for (const obj of this.objects()) {
      const condition = conditions.get(obj);
      const doc = ['---', ...renderValue(obj.toJson())];
      out.push(...(condition ? [`{{- if ${condition} }}`, ...doc, '{{- end }}'] : doc));
    }
    if (this.condition) out.push('{{- end }}');
    return `${out.join('\n')}\n`;
  }
}
