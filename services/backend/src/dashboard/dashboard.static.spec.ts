import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticDashboard } from './dashboard.static.js';

/** GET of a raw path (no URL normalization, unlike fetch), answering status, headers and body. */
function get(server: Server, path: string, method = 'GET') {
  const { port } = server.address() as AddressInfo;
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe(staticDashboard.name, () => {
  let root: string;
  let server: Server;

  beforeAll(async () => {
    const parent = mkdtempSync(join(tmpdir(), 'kritik-static-'));
    root = join(parent, 'dist');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    // A file beside the served directory that no request may reach.
    writeFileSync(join(parent, 'secret.txt'), 'not for the web');
    const sut = staticDashboard(root);
    server = createServer((req, res) =>
      sut(req, res, () => {
        res.statusCode = 418;
        res.end('passed on');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    server.close();
    rmSync(join(root, '..'), { recursive: true, force: true });
  });

  it('serves hashed assets as immutable and pages as index.html, read fresh', async () => {
    const asset = await get(server, '/assets/index-abc123.js');
    expect(asset).toMatchObject({ status: 200, body: 'console.log(1)' });
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-type']).toContain('text/javascript');
    const page = await get(server, '/reviews/0123456789abcdef0123');
    expect(page.body).toContain('<div id="app">');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it.each(['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt'])(
    'never serves a file outside its directory (%s)',
    async (path) => {
      const reply = await get(server, path);
      expect(reply.body).not.toContain('not for the web');
    },
  );

  it('passes API, webhook, probe and metrics paths and other methods on', async () => {
    for (const path of ['/api/reviews', '/webhooks/github', '/health', '/ready', '/metrics']) {
      expect((await get(server, path)).status).toBe(418);
    }
    expect((await get(server, '/', 'POST')).status).toBe(418);
  });

  it('refuses to start without a built app', () => {
    expect(() => staticDashboard(join(root, 'missing'))).toThrow(/not built/);
  });
});
