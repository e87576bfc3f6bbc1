import { permissionResource, REQUIRED_PERMISSIONS } from '@kritik/core';
import type { V1ObjectMeta, V1Role, V1RoleBinding, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { App, Testing } from 'cdk8s';
import { TemplateFile } from '../helm/template-file.js';
import { describeTokens } from '../helm/tokens.js';
import { JobsNamespace } from './jobs.js';

type Manifest = { kind: string; metadata: V1ObjectMeta };

function synth(): Manifest[] {
  // Rendered in memory: unlike Testing.app(), an App never synthesized to disk leaves no temp dir.
  const file = new TemplateFile(new App(), 'jobs.yaml');
  new JobsNamespace(file, 'jobs', { workerServiceAccount: 'kritik-worker' });
  return Testing.synth(file) as Manifest[];
}

function find<T>(kind: string): T {
  const found = synth().find((m) => m.kind === kind);
  if (!found) throw new Error(`no ${kind}`);
  return describeTokens(found) as T;
}

describe(JobsNamespace.name, () => {
  it('grants the worker exactly the permissions its code declares, nothing more', () => {
    const sut = find<V1Role>('Role').rules;

    expect(sut).toEqual(
      REQUIRED_PERMISSIONS.map((p) => ({
        apiGroups: [p.group],
        resources: [permissionResource(p)],
        verbs: [...p.verbs],
      })),
    );
  });

  it('puts the Role in the jobs namespace', () => {
    const sut = find<V1Role>('Role').metadata?.namespace;

    expect(sut).toBe('{{ include "kritik.jobsNamespace" . | quote }}');
  });

  it('binds the Role to the worker ServiceAccount in the release namespace', () => {
    const sut = find<V1RoleBinding>('RoleBinding').subjects;

    expect(sut).toEqual([
      { kind: 'ServiceAccount', name: 'kritik-worker', namespace: '{{ .Release.Namespace | quote }}' },
    ]);
  });

  it('gives review pods a ServiceAccount without a token', () => {
    const sut = find<V1ServiceAccount>('ServiceAccount');

    expect(sut.automountServiceAccountToken).toBe(false);
  });

  it('labels the namespace to enforce PodSecurity restricted', () => {
    const sut = find<Manifest>('Namespace').metadata.labels;

    expect(sut).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('keeps the Anthropic key under the name envFrom exposes, in the namespace of its reader', () => {
    const sut = find<V1Secret>('Secret');

    expect([sut.metadata?.namespace, Object.keys(sut.data ?? {})]).toEqual([
      '{{ include "kritik.anthropicNamespace" . | quote }}',
      ['ANTHROPIC_API_KEY'],
    ]);
  });

  it('synthesizes the jobs namespace objects unchanged', () => {
    const sut = synth();

    expect(describeTokens(sut)).toMatchSnapshot();
  });
});
