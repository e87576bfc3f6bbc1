// Serves POST /webhooks/github straight from the HTTP server, ahead of Express and Nest's
// router: per delivery those cost more CPU than verifying, parsing and storing it (see
// docs/adr/0006). What it buys (bench/webhooks, docs/adr/0017): 1,885 against 1,143 deliveries
// per second saturated, 0.20 against 0.32 ms of backend CPU each. Every other request, and other
// spellings of this path, go to the application.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from '@kritik/server';
import type { INestApplication } from '@nestjs/common';
import { LOGGER } from '../logger.provider.js';
import { WebhookReceiver } from './webhooks.receiver.js';

export const WEBHOOK_PATH = '/webhooks/github';

const isWebhook = (req: IncomingMessage) =>
  req.method === 'POST' &&
  (req.url === WEBHOOK_PATH || (req.url?.startsWith(WEBHOOK_PATH) === true && req.url[WEBHOOK_PATH.length] === '?'));

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
    if (!isWebhook(req)) return application(req, res);
    // The receiver answers every outcome itself; this only guards against a bug in it, as
    // Nest's exception handling would.
    receiver.receive(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'webhook handling failed');
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
          .end('{"status":"error","error":"internal error"}');
    });
  });
}
