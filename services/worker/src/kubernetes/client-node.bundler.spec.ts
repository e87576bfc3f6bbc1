import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type ControlPlane, repoRoot, startControlPlane } from '@kritik/testing';
import { bundleClientNode } from './client-node.bundler.js';

jest.setTimeout(120_000);

describe(bundleClientNode.name, () => {
  let plane: ControlPlane;
  let dir: string;

  beforeAll(async () => {
    plane = await startControlPlane();
    dir = mkdtempSync(join(tmpdir(), 'kritik-client-node-'));
  });
  afterAll(async () => {
    await plane?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('produces a module that reads from the API server on its own, as the package does', async () => {
    const outfile = join(dir, 'client-node.js');
    await bundleClientNode(join(repoRoot(), 'services/worker'), outfile);
    // A plain node process, away from any node_modules: the bundle must hold all it needs.
    const script = `
      const k8s = await import(${JSON.stringify(pathToFileURL(outfile).href)});
      const config = new k8s.KubeConfig();
      config.loadFromFile(process.argv[1]);
      const ns = await config.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'default' });
      console.log(ns.metadata.name, ns.metadata.creationTimestamp instanceof Date);`;

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, plane.kubeconfigPath],
      { cwd: dir },
    );

    expect(stdout.trim()).toBe('default true');
  });

  it('leaves out the API groups and code the worker does not use', async () => {
    const report = await bundleClientNode(join(repoRoot(), 'services/worker'), join(dir, 'small.js'));

    // The package's own JavaScript is some 22 MB; its generated API clients alone 19 MB.
    expect(report.bytes).toBeLessThan(4 * 1024 * 1024);
  });
});
