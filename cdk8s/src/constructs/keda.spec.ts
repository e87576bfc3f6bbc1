import { App, Testing } from 'cdk8s';
import { TemplateFile } from '../helm/template-file.js';
import { describeTokens } from '../helm/tokens.js';
import { WorkerScaledObject } from './keda.js';

type Manifest = { kind: string; spec: Record<string, unknown> };

function synth(): Manifest[] {
  // Rendered in memory: unlike Testing.app(), an App never synthesized to disk leaves no temp dir.
  const file = new TemplateFile(new App(), 'keda.yaml');
  new WorkerScaledObject(file, 'keda', { workerName: 'kritik-worker' });
  return (Testing.synth(file) as Manifest[]).map((m) => describeTokens(m) as Manifest);
}

const scaledObject = () => synth().find((m) => m.kind === 'ScaledObject')!;

describe(WorkerScaledObject.name, () => {
  it('creates a TriggerAuthentication, a ScaledObject and the NetworkPolicy for the operator', () => {
    const sut = synth().map((m) => m.kind);

    expect(sut).toEqual(['TriggerAuthentication', 'ScaledObject', 'NetworkPolicy']);
  });

  it('adds the triggers up in a formula naming every trigger', () => {
    const spec = scaledObject().spec as {
      triggers: { name: string }[];
      advanced: { scalingModifiers: { formula: string } };
    };

    const sut = spec.advanced.scalingModifiers.formula.split(' + ').sort();

    expect(sut).toEqual(spec.triggers.map((t) => t.name).sort());
  });

  it('targets the worker Deployment', () => {
    const sut = scaledObject().spec.scaleTargetRef;

    expect(sut).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'kritik-worker' });
  });

  it('synthesizes the ScaledObject as before', () => {
    expect(scaledObject()).toMatchSnapshot();
  });
});
