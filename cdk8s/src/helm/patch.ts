// JSON patches applied to an object's final Kubernetes JSON. cdk8s applies its own patches before
// the typed (L1) classes map props to JSON, and that mapping drops a token standing for an object
// or a list; these patches run after it, so blocks survive.
import { ApiObject, JsonPatch } from 'cdk8s';
import type { IConstruct } from 'constructs';

export function patchSynthesized(construct: IConstruct, ...ops: JsonPatch[]): void {
  const obj = ApiObject.of(construct);
  const synthesize = obj.toJson.bind(obj);
  obj.toJson = () => {
    try {
      return JsonPatch.apply(synthesize(), ...ops);
    } catch (error) {
      throw new Error(`patching ${obj.kind} ${obj.node.path}: ${(error as Error).message}`);
    }
  };
}
