import { int, str, ValueRef } from '../values/dsl.js';
import { expr, lines, merge, optionalYaml, spliceYaml, value, when, whenItem, yaml } from './expr.js';
import { renderYaml } from './render.js';

const replicas = new ValueRef(['web', 'replicas'], int(1, 'replicas'));
const image = new ValueRef(['web', 'image'], str('nginx', 'image'));

describe(renderYaml.name, () => {
  it('prints numbers unquoted and strings quoted', () => {
    const sut = renderYaml({ replicas: value(replicas), image: value(image) });

    expect(sut).toBe('replicas: {{ .Values.web.replicas }}\nimage: {{ .Values.web.image | quote }}');
  });

  it('replaces a token inside a longer plain scalar', () => {
    const sut = renderYaml({ name: `${expr('include "x.fullname" .')}-web` });

    expect(sut).toBe('name: {{ include "x.fullname" . }}-web');
  });

  it('indents a toYaml block two columns below its key', () => {
    const sut = renderYaml({ spec: { containers: [{ name: 'web', resources: yaml('.Values.web.resources') }] } });

    expect(sut).toBe(
      [
        'spec:',
        '  containers:',
        '    - name: web',
        '      resources: {{- toYaml .Values.web.resources | nindent 8 }}',
      ].join('\n'),
    );
  });

  it('wraps a conditional key and its value in an if block at the key column', () => {
    const sut = renderYaml({ spec: { replicas: when('not .Values.hpa', value(replicas)), paused: false } });

    expect(sut).toBe(
      [
        'spec:',
        '  {{- if not .Values.hpa }}',
        '  replicas: {{ .Values.web.replicas }}',
        '  {{- end }}',
        '  paused: false',
      ].join('\n'),
    );
  });

  it('wraps a conditional list item in an if block at the dash column', () => {
    const sut = renderYaml({ env: [{ name: 'A', value: '1' }, whenItem('.Values.b', { name: 'B', value: '2' })] });

    expect(sut).toBe(
      [
        'env:',
        '  - name: A',
        '    value: "1"',
        '  {{- if .Values.b }}',
        '  - name: B',
        '    value: "2"',
        '  {{- end }}',
      ].join('\n'),
    );
  });

  it('renders an optional key only when its value is not empty', () => {
    const sut = renderYaml({ spec: { nodeSelector: optionalYaml('.Values.nodeSelector') } });

    expect(sut).toBe(
      [
        'spec:',
        '  {{- with .Values.nodeSelector }}',
        '  nodeSelector: {{- toYaml . | nindent 4 }}',
        '  {{- end }}',
      ].join('\n'),
    );
  });

  it('merges a map value into a map at the column of its keys', () => {
    const sut = renderYaml({ labels: { app: 'web', ...merge('.Values.commonLabels') } });

    expect(sut).toBe(
      [
        'labels:',
        '  app: web',
        '  {{- with .Values.commonLabels }}',
        '  {{- toYaml . | nindent 2 }}',
        '  {{- end }}',
      ].join('\n'),
    );
  });

  it('splices the items of a list value after the fixed items', () => {
    const sut = renderYaml({ env: [{ name: 'A' }, spliceYaml('.Values.extraEnv')] });

    expect(sut).toBe(
      ['env:', '  - name: A', '  {{- with .Values.extraEnv }}', '  {{- toYaml . | nindent 2 }}', '  {{- end }}'].join(
        '\n',
      ),
    );
  });

  it('hands hand-written lines the column of their key', () => {
    const rules = lines('rules', ({ head, column }) => [head, `${' '.repeat(column + 2)}{{- range .Values.hosts }}`]);

    const sut = renderYaml({ spec: { rules } });

    expect(sut).toBe(['spec:', '  rules:', '    {{- range .Values.hosts }}'].join('\n'));
  });

  it('refuses a token that YAML had to quote', () => {
    const quoted = { note: `${expr('.Values.x')}: needs quotes` };

    expect(() => renderYaml(quoted)).toThrow(/inside a quoted YAML scalar/);
  });

  it('refuses a block token that is not alone on its line', () => {
    const mixed = { name: `prefix-${yaml('.Values.x')}` };

    expect(() => renderYaml(mixed)).toThrow(/not alone on its line/);
  });

  it('refuses a conditional key as the first key of a list item', () => {
    const first = { items: [{ a: when('.Values.x', 1) }] };

    expect(() => renderYaml(first)).toThrow(/first key of a list item/);
  });
});
