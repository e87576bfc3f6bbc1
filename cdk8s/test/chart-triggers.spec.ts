// The chart's `triggers` values reach backend and worker alike, so the worker's `@<bot> help`
// reply names the bot and label the backend answers to.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, helpReply, TRIGGER_DEFAULTS } from '@kritik/core';
import { loadWorkerConfig } from '@kritik/worker';
import type { V1Deployment } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { findManifest, type Manifest, render } from './chart.js';

const TRIGGER_VARS = [ENV.botName, ENV.triggerLabel, ENV.debounceMs, ENV.reviewDrafts, ENV.reviewBots];
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nplaceholder\n-----END RSA PRIVATE KEY-----\n';

/** The trigger variables of a component's container, by name. */
function triggerEnvOf(manifests: Manifest[], component: 'backend' | 'worker'): Record<string, string | undefined> {
  const env = findManifest<V1Deployment>(manifests, 'Deployment', `-${component}`).spec!.template.spec!.containers[0]!
    .env;
  return Object.fromEntries(
    (env ?? []).filter((e) => (TRIGGER_VARS as readonly string[]).includes(e.name)).map((e) => [e.name, e.value]),
  );
}

describe("the chart's triggers", () => {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-triggers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives backend and worker the defaults of the services', async () => {
    const manifests = await render();

    const sut = [triggerEnvOf(manifests, 'backend'), triggerEnvOf(manifests, 'worker')];

    const expected = {
      [ENV.botName]: TRIGGER_DEFAULTS.botName,
      [ENV.triggerLabel]: TRIGGER_DEFAULTS.label,
      [ENV.debounceMs]: String(TRIGGER_DEFAULTS.debounceMs),
      [ENV.reviewDrafts]: String(TRIGGER_DEFAULTS.reviewDrafts),
      [ENV.reviewBots]: String(TRIGGER_DEFAULTS.reviewBots),
    };
    expect(sut).toEqual([expected, expected]);
  });

  it('gives backend and worker the same configured values, a label with YAML and quotes included', async () => {
    const values = join(dir, 'triggers-values.yaml');
    const label = 'ai: "review" # {{ now }}';
    writeFileSync(
      values,
      stringify({
        triggers: { botName: 'review-bot', label, debounceMs: 600_000, reviewDrafts: true, reviewBots: true },
      }),
    );
    const manifests = await render({ valuesFiles: [values] });

    const [backend, worker] = [triggerEnvOf(manifests, 'backend'), triggerEnvOf(manifests, 'worker')];

    expect(backend).toEqual({
      [ENV.botName]: 'review-bot',
      [ENV.triggerLabel]: label,
      [ENV.debounceMs]: '600000',
      [ENV.reviewDrafts]: 'true',
      [ENV.reviewBots]: 'true',
    });
    expect(worker).toEqual(backend);
  });

  it("makes the worker's help reply name the configured bot and label", async () => {
    const values = join(dir, 'bot-values.yaml');
    writeFileSync(values, stringify({ triggers: { botName: 'acme-reviewer', label: 'needs-review' } }));
    const env = triggerEnvOf(await render({ valuesFiles: [values] }), 'worker');

    const config = loadWorkerConfig({
      ...env,
      [ENV.redisUrl]: 'redis://127.0.0.1:6379',
      [ENV.githubAppId]: '42',
      [ENV.githubAppPrivateKey]: PEM,
      [ENV.runner]: 'local',
    });
    const sut = helpReply(config.triggers.botName, config.triggers.label);

    expect(sut).toContain('`@acme-reviewer review`');
    expect(sut).toContain('needs-review');
    expect(sut).not.toContain('@kritik ');
  });
});

describe("the chart's review record retention", () => {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-retention-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const retentionOf = (manifests: Manifest[], component: 'backend' | 'worker') =>
    findManifest<V1Deployment>(manifests, 'Deployment', `-${component}`).spec!.template.spec!.containers[0]!.env?.find(
      (e) => e.name === ENV.reviewRetentionDays,
    )?.value;

  it('gives backend and worker one retention, dashboard off included, that the worker reads', async () => {
    const values = join(dir, 'retention-values.yaml');
    writeFileSync(values, stringify({ dashboard: { enabled: false, recordDays: 90 } }));
    const manifests = await render({ valuesFiles: [values] });

    expect([retentionOf(manifests, 'backend'), retentionOf(manifests, 'worker')]).toEqual(['90', '90']);
    const config = loadWorkerConfig({
      [ENV.reviewRetentionDays]: retentionOf(manifests, 'worker'),
      [ENV.redisUrl]: 'redis://127.0.0.1:6379',
      [ENV.githubAppId]: '42',
      [ENV.githubAppPrivateKey]: PEM,
      [ENV.runner]: 'local',
    });
    expect(config.history.recordDays).toBe(90);
  });

  it('refuses a retention beyond a year before anything is rendered', async () => {
    const values = join(dir, 'too-long-values.yaml');
    writeFileSync(values, stringify({ dashboard: { recordDays: 3650 } }));
    await expect(render({ valuesFiles: [values] })).rejects.toThrow(/recordDays/);
  });
});
