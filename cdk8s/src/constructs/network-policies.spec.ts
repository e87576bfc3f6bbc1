import type { V1NetworkPolicy, V1NetworkPolicySpec } from '@kubernetes/client-node';
import { App, Testing } from 'cdk8s';
import { renderYaml } from '../helm/render.js';
import { TemplateFile } from '../helm/template-file.js';
import { describeTokens } from '../helm/tokens.js';
import { KritikNetworkPolicies } from './network-policies.js';

type Policy = V1NetworkPolicy & { metadata: { name: string }; spec: V1NetworkPolicySpec };

function policy(component: string): Policy {
  // Rendered in memory: unlike Testing.app(), an App never synthesized to disk leaves no temp dir.
  const file = new TemplateFile(new App(), 'networkpolicies.yaml');
  new KritikNetworkPolicies(file, 'policies');
  const found = (Testing.synth(file) as Policy[]).find(
    (p) => describeTokens(p.metadata.name) === `{{ include "kritik.fullname" . }}-${component}`,
  );
  if (!found) throw new Error(`no policy for ${component}`);
  return found;
}

describe(KritikNetworkPolicies.name, () => {
  it('lets nothing reach review pods', () => {
    const sut = policy('reviewer').spec;

    expect([sut.policyTypes, sut.ingress]).toEqual([['Ingress', 'Egress'], []]);
  });

  it('lets review pods reach TCP 443 only outside the private ranges', () => {
    const sut = renderYaml(policy('reviewer').spec.egress?.[2]);

    expect(sut).toBe(
      [
        'ports:',
        '  - port: 443',
        '    protocol: TCP',
        'to:',
        '  - ipBlock:',
        '      cidr: 0.0.0.0/0',
        '      except: {{- toYaml .Values.networkPolicy.privateCidrs | nindent 8 }}',
      ].join('\n'),
    );
  });

  it('lets review pods resolve names with the cluster DNS only', () => {
    const sut = renderYaml(policy('reviewer').spec.egress?.[0]);

    expect(sut).toBe(
      [
        'ports:',
        '  - port: 53',
        '    protocol: UDP',
        '  - port: 53',
        '    protocol: TCP',
        'to:',
        '  - namespaceSelector: {{- toYaml .Values.networkPolicy.reviewerDns.namespaceSelector | nindent 6 }}',
        '    podSelector: {{- toYaml .Values.networkPolicy.reviewerDns.podSelector | nindent 6 }}',
      ].join('\n'),
    );
  });

  it('lets the backend port be reached from the configured namespaces', () => {
    const sut = renderYaml(policy('backend').spec.ingress);

    expect(sut).toContain('- namespaceSelector: {{- toYaml .Values.networkPolicy.ingressNamespaceSelector | nindent');
  });

  it('lets the metrics namespaces reach only the metrics port of backend and worker', () => {
    const sut = ['backend', 'worker'].map((c) =>
      (policy(c).spec.ingress ?? []).flatMap((rule) =>
        typeof rule === 'string'
          ? []
          : [
              [
                renderYaml((rule as { from?: unknown }).from).includes('metricsNamespaceSelector'),
                rule.ports?.map((p) => p.port),
              ],
            ],
      ),
    );

    expect(sut).toEqual([
      [
        [false, [8080]],
        [true, [9090]],
      ],
      [[true, [9090]]],
    ]);
  });

  it("lets this release's review pods, and nothing else, reach the worker's gateway when it is on", () => {
    const sut = [renderYaml(policy('worker').spec.ingress), renderYaml(policy('reviewer').spec.egress)];

    const gated = sut.map(
      (rules) => rules.split('{{- if .Values.anthropic.gateway }}')[1]?.split('{{- end }}')[0] ?? '',
    );

    for (const rule of gated) {
      expect(rule).toContain('- port: 8082');
      expect(rule).toContain('app.kubernetes.io/instance: {{ .Release.Name | quote }}');
    }
    expect(sut.map((rules) => rules.split('8082').length - 1)).toEqual([1, 1]);
    expect(gated[0]).toContain('kubernetes.io/metadata.name: {{ include "kritik.jobsNamespace" . | quote }}');
    expect(gated[0]).toContain('app.kubernetes.io/component: reviewer');
    expect(gated[1]).toContain('kubernetes.io/metadata.name: {{ .Release.Namespace | quote }}');
    expect(gated[1]).toContain('app.kubernetes.io/component: worker');
  });

  it('lets the worker reach the API server on the configured ports', () => {
    const sut = renderYaml(policy('worker').spec.egress);

    expect(sut).toContain('{{- range .Values.networkPolicy.kubeApi.ports }}');
  });
});
