// Serves POST /webhooks/github and /webhooks/gitlab straight from the HTTP server, ahead of Express and Nest's
// router: per delivery those cost more CPU than verifying, parsing and storing it (see
// docs/adr/0006). What it buys (bench/webhooks, docs/adr/0017): 1,885 against 1,143 deliveries
// per second saturated, 0.20 against 0.32 ms of backend CPU each. Every other request, and other
// spellings of these paths, go to the application.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Platform } from '@kritik/core';
import type { Logger } from '@kritik/server';
import type { INestApplication } from '@nestjs/common';
import { LOGGER } from '../logger.provider.js';
import { WebhookReceiver } from './webhooks.receiver.js';

export const WEBHOOK_PATH = '/webhooks/github';
export const GITLAB_WEBHOOK_PATH = '/webhooks/gitlab';

const PATHS: readonly [string, Platform][] = [
  [WEBHOOK_PATH, 'github'],
  [GITLAB_WEBHOOK_PATH, 'gitlab'],
];

/** The platform whose webhook path this request posts to, if it does. */
function webhookOf(req: IncomingMessage): Platform | undefined {
  if (req.method !== 'POST' || !req.url) return undefined;
  const url = req.url;
  for (const [path, platform] of PATHS) {
    if (url === path || (url.startsWith(path) && url[path.length] === '?')) return platform;
  }
  return undefined;
}

/** Puts the webhook receiver in front of the application's request listener. Call before listen(). */
export function serveWebhooksDirectly(app: INestApplication): void {
  const receiver = app.get(WebhookReceiver);
  const logger = app.get<string, Logger>(LOGGER);
  const server = app.getHttpServer() as Server;
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) throw new Error(`expected one request listener, found ${listeners.length}`);
  const application = listeners[0]!;
  server.removeListener('request', application);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const platform = webhookOf(req);
    if (!platform) return application(req, res);
    // The receiver answers every outcome itself; this only guards against a bug in it, as
    // Nest's exception handling would.
    receiver.receive(req, res, platform).catch((error: unknown) => {
      logger.error({ err: error }, 'webhook handling failed');
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
          .end('{"status":"error","error":"internal error"}');
    });
  });
}
