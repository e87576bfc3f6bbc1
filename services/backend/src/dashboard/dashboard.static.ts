// Serves the built single-page app under `/`: its hashed assets as they are (cached for a year),
// and index.html for every other page path, so deep links work. API and probe paths pass through.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths the backend answers itself. */
const NOT_PAGES = /^\/(?:api|webhooks|health|ready|metrics)(?:\/|$)/;

/** Everything loads from this origin (no CDN); the API is same-origin. */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const dashboardManifest = () =>
  createRequire(join(process.cwd(), 'package.json')).resolve('@kritik/dashboard/package.json');

/** The built app: `dir` when given, else the @kritik/dashboard package's dist/. */
export function dashboardAssetsDir(dir: string | undefined): string {
  return dir ?? join(dirname(dashboardManifest()), 'dist');
}

/**
 * The release's version: every workspace of a release carries the same one
 * (scripts/release-version.ts), so the dashboard package's is the backend's and the images'.
 */
export function releaseVersion(): string {
  try {
    return (JSON.parse(readFileSync(dashboardManifest(), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export function staticDashboard(root: string): Middleware {
  const index = join(root, 'index.html');
  if (!existsSync(index)) throw new Error(`the dashboard is not built: ${index} is missing (run npm run build)`);
  return (req, res, next) => {
    const path = decodePath(req.url);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path === undefined || NOT_PAGES.test(path)) return next();
    const file = normalize(join(root, path));
    const asset = file.startsWith(root + sep) && isFile(file) ? file : undefined;
    const served = asset ?? index;
    res.statusCode = 200;
    res.setHeader('content-type', TYPES[extname(served)] ?? 'application/octet-stream');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'same-origin');
    res.setHeader('content-security-policy', CSP);
    // Vite names assets by content hash; index.html must be read fresh to pick new ones up.
    res.setHeader(
      'cache-control',
      asset?.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    if (req.method === 'HEAD') return void res.end();
    createReadStream(served).pipe(res);
  };
}

function decodePath(url: string | undefined): string | undefined {
  try {
    return decodeURIComponent(new URL(url ?? '/', 'http://local').pathname);
  } catch {
    return undefined;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
