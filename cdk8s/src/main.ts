// `npm run synth`: regenerates charts/kritik. Runs from a clean checkout through tsx (no build
// needed); generated directories are emptied first so a removed template does not linger.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readChartVersions, synthChart } from './synth.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const chartDir = join(root, 'charts', 'kritik');

const files = synthChart(readChartVersions(root));

for (const dir of ['templates', 'dashboards', 'crds']) rmSync(join(chartDir, dir), { recursive: true, force: true });
for (const [path, content] of files) {
  const file = join(chartDir, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}
console.log(`wrote ${files.size} files to ${chartDir}`);
