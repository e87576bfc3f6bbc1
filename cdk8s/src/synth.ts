// Generates every file of charts/kritik from TypeScript: templates from the constructs, values
// files from the values definition, Chart.yaml, README, NOTES and the Grafana dashboard.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChartVersions, chartYaml, helmignore, readme } from './chart/chart-files.js';
import { POLICY_CRD_FILE, reviewPolicyCrdYaml } from './chart/crds.js';
import { dashboardJson } from './chart/dashboard.js';
import { helpersTpl } from './chart/helpers-tpl.js';
import { buildTemplates } from './chart/kritik-chart.js';
import { notesTxt } from './chart/notes.js';
import { DASHBOARD_FILE } from './constructs/monitoring.js';
import { valuesDefinition } from './values/definition.js';
import { valuesSchemaJson, valuesYaml } from './values/generate.js';

/** Chart version from cdk8s/package.json; appVersion (the images' tag) from the backend's package.json. */
export function readChartVersions(root: string): ChartVersions {
  const version = (packageJson: string) =>
    (JSON.parse(readFileSync(join(root, packageJson), 'utf8')) as { version: string }).version;
  return { version: version('cdk8s/package.json'), appVersion: version('services/backend/package.json') };
}

/** Files of charts/kritik written by hand: the test scenarios and the kube-score exceptions. */
export const HAND_WRITTEN = [/^ci\/[^/]+-values\.yaml$/, /^\.kube-score\.yaml$/];

const DEFINITION_SOURCE = 'cdk8s/src/values/definition.ts';

const header = (source: string) => `DO NOT EDIT: generated from ${source} by \`npm run synth\`.`;

/** Every generated file, by path relative to the chart directory. */
export function synthChart(versions: ChartVersions): Map<string, string> {
  const files = new Map<string, string>();
  files.set('Chart.yaml', chartYaml(versions, header('cdk8s/src/chart/chart-files.ts')));
  files.set('.helmignore', helmignore(header('cdk8s/src/chart/chart-files.ts')));
  files.set('values.yaml', valuesYaml(valuesDefinition, DEFINITION_SOURCE));
  files.set('values.schema.json', valuesSchemaJson(valuesDefinition, DEFINITION_SOURCE));
  files.set(
    'README.md',
    readme(valuesDefinition, versions, header(`${DEFINITION_SOURCE} and cdk8s/src/chart/chart-files.ts`)),
  );
  files.set(DASHBOARD_FILE, dashboardJson());
  files.set(
    POLICY_CRD_FILE,
    reviewPolicyCrdYaml(header('packages/core/src/policy/policy.schema.ts via cdk8s/src/chart/crds.ts')),
  );
  files.set('templates/_helpers.tpl', helpersTpl(header('cdk8s/src/chart/helpers-tpl.ts')));
  files.set('templates/NOTES.txt', notesTxt(header('cdk8s/src/chart/notes.ts')));
  for (const file of buildTemplates()) {
    files.set(
      `templates/${file.fileName}`,
      file.render(header('cdk8s/src/chart/kritik-chart.ts (constructs in cdk8s/src/constructs)')),
    );
  }
  return files;
}
