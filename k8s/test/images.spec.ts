// The three service images, checked without a Docker engine: rules of the one Dockerfile they
// are built from (services/Dockerfile, SERVICE build argument), and each built entrypoint started
// from a production-only install, which proves that nothing it imports at runtime is a dev
// dependency.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '@kritik/core';
import { repoRoot, SERVICES_DOCKERFILE, ServiceImage } from '@kritik/testing';

const SERVICES = ['backend', 'worker', 'reviewer'] as const;
const DEV_ONLY = ['typescript', 'jest', '@swc/core', '@biomejs/biome', 'cdk8s', '@kritik/testing'];

describe(ServiceImage.name, () => {
  const repo = repoRoot();

  describe.each(SERVICES)('%s image', (service) => {
    const sut = ServiceImage.load(repo, service);

    it(`is built from ${SERVICES_DOCKERFILE}, in several stages`, () => {
      expect(sut.file).toBe(SERVICES_DOCKERFILE);
      expect(sut.dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    });

    it('ends in the stage its build argument names', () => {
      expect(sut.imageStages.map((stage) => stage.name)).toContain(service);
    });

    it('starts every stage from the pinned Node 20 slim image', () => {
      const images = sut.dockerfile.stages.map((stage) => sut.baseImage(stage));
      expect(new Set(images)).toEqual(new Set(['node:20.20-bookworm-slim']));
    });

    it('runs as the non-root user 1000', () => {
      expect(sut.argsOf(sut.imageStages, 'USER').at(-1)).toMatch(/^1000(:1000)?$/);
    });

    it('runs the entrypoint that npm run build produces', () => {
      // Node flags may sit between node and the script (the worker trades speed for memory).
      expect(sut.entrypoint[0]).toBe('node');
      expect(sut.entrypoint.slice(1, -1).every((arg) => arg.startsWith('--'))).toBe(true);
      expect(sut.entrypoint.at(-1)).toBe(`services/${service}/dist/main.js`);
      expect(existsSync(join(repo, 'services', service, 'dist', 'main.js'))).toBe(true);
    });

    it('copies a tree installed without dev dependencies for its own workspace only', () => {
      expect(sut.productionInstall).toMatch(new RegExp(`--workspace[= ]"?@kritik/${service}"?(\\s|$)`));
    });

    it('runs nothing and sets production mode in the stages of the image itself', () => {
      expect(sut.argsOf(sut.imageStages, 'RUN')).toEqual([]);
      expect(sut.env).toMatchObject({ NODE_ENV: 'production' });
    });
  });

  it('builds every service the same way, apart from the stage that says how it starts', () => {
    const sut = SERVICES.map((service) => ServiceImage.load(repo, service));
    expect(sut.map((image) => image.imageStages.map((stage) => stage.name))).toEqual(
      SERVICES.map((service) => ['runtime', service, undefined]),
    );
    expect(sut.map((image) => image.runtimeTreeStage?.name)).toEqual(SERVICES.map(() => 'runtime-tree'));
  });

  it('names the missing stage of a service the Dockerfile does not build', () => {
    const sut = ServiceImage.load(repo, 'frontend');
    expect(sut.baseImage(sut.finalStage)).toBe('frontend');
    expect(() => sut.startCommand).toThrow(/frontend image neither ENTRYPOINT nor CMD/);
  });

  describe('entrypoints on a production-only install', () => {
    const dirs = new Map<string, string>();

    beforeAll(() => {
      for (const service of SERVICES) {
        const dir = mkdtempSync(join(tmpdir(), `kritik-image-${service}-`));
        dirs.set(service, dir);
        const install = ServiceImage.load(repo, service).installProduction(dir);
        if (install.status !== 0) throw new Error(`the ${service} runtime tree failed to build:\n${install.output}`);
      }
    }, 170_000);

    afterAll(() => {
      for (const dir of dirs.values()) {
        rmSync(dir, { recursive: true, force: true });
        rmSync(`${dir}.termination-log`, { force: true });
      }
    });

    const dirOf = (service: string) => dirs.get(service) ?? '';

    it.each(SERVICES)('leaves the dev-only packages out of the %s tree', (service) => {
      const present = DEV_ONLY.filter((name) => existsSync(join(dirOf(service), 'node_modules', name)));
      expect(present).toEqual([]);
    });

    it('leaves the reviewer out of the worker tree', () => {
      expect(existsSync(join(dirOf('worker'), 'node_modules', '@kritik/reviewer'))).toBe(false);
    });

    // The gateway signs Bedrock and Vertex calls through their SDKs (ADR 0037), which need the model SDK.
    it('carries the provider SDKs the gateway translates through in the worker tree', () => {
      const missing = ['@anthropic-ai/sdk', '@anthropic-ai/bedrock-sdk', '@anthropic-ai/vertex-sdk'].filter(
        (name) => !existsSync(join(dirOf('worker'), 'node_modules', name)),
      );
      expect(missing).toEqual([]);
    });

    it('prints the reviewer CLI help and exits 0', () => {
      const sut = ServiceImage.load(repo, 'reviewer');
      const result = sut.start(dirOf('reviewer'), ['--help']);
      expect(result).toMatchObject({ status: 0, wrote: [] });
      expect(result.output).toMatch(/review/);
    });

    it('runs a review Job by default and names the missing review payload', () => {
      const sut = ServiceImage.load(repo, 'reviewer');
      // Outside the image's tree, as /dev/termination-log is.
      const termination = `${dirOf('reviewer')}.termination-log`;
      const result = sut.start(dirOf('reviewer'), undefined, { [ENV.terminationLog]: termination });
      expect(sut.command).toEqual(['job']);
      expect(result.output).toContain(`${ENV.review} must be set`);
      expect(result.wrote).toEqual([]);
    });

    it.each([
      ['backend', ENV.githubWebhookSecret],
      ['worker', ENV.githubAppId],
    ])('stops the %s without config with an error naming %s', (service, variable) => {
      const sut = ServiceImage.load(repo, service);
      const result = sut.start(dirOf(service));
      expect(result.output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
      expect(result.output).toContain(variable);
      expect(result.status).not.toBe(0);
      expect(result.wrote).toEqual([]);
    });
  });
});
