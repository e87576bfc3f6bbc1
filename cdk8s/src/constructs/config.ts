// The config file (a ConfigMap mounted by backend and worker) and the Secrets the chart creates
// when no existing ones are named: GitHub App credentials and the reviews API token.
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { configFileOf } from '../chart/config-file.js';
import { metadata, nameOf } from '../chart/meta.js';
import { expr, literal } from '../helm/expr.js';
import { onlyIf } from '../helm/template-file.js';
import { values } from '../values/definition.js';

/** A generated secret: the given value, else the stored one (upgrades keep it), else random. */
export const generated = (secretName: string, key: string, given: unknown) =>
  expr(
    `include "kritik.secretValue" (list . (include ${JSON.stringify(secretName)} .) ${key} ${given}) | b64enc | quote`,
  );

export class KritikConfig extends Construct {
  readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.configMap = new kplus.ConfigMap(this, 'config', {
      metadata: metadata(nameOf('config')),
      data: Object.fromEntries(
        (['backend', 'worker'] as const).map((c) => [
          configFileOf(c).key,
          literal(`include "${configFileOf(c).helper}" .`),
        ]),
      ),
    });

    const gh = values.github;
    const keys = gh.secretKeys;
    const github = new kplus.k8s.KubeSecret(this, 'github', {
      metadata: metadata(nameOf('github')),
      type: 'Opaque',
      data: {
        [expr(`${keys.appId} | quote`)]: expr(`${gh.appId} | toString | b64enc | quote`),
        [expr(`${keys.privateKey} | quote`)]: expr(`${gh.privateKey} | b64enc | quote`),
        [expr(`${keys.webhookSecret} | quote`)]: generated(
          'kritik.githubSecretName',
          `${keys.webhookSecret}`,
          `${gh.webhookSecret}`,
        ),
      },
    });
    onlyIf(github, `not ${gh.existingSecret}`);

    const api = new kplus.k8s.KubeSecret(this, 'api', {
      metadata: metadata(nameOf('api')),
      type: 'Opaque',
      data: {
        [expr(`${values.api.secretKey} | quote`)]: generated(
          'kritik.apiSecretName',
          `${values.api.secretKey}`,
          `${values.api.token}`,
        ),
      },
    });
    onlyIf(api, `not ${values.api.existingSecret}`);
  }
}
