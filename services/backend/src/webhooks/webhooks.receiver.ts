// Handles one webhook delivery on node's own request and response: read the raw body (413 past
// 25 MB; 503 while the unverified-body budget is full; 408 when it trickles in too slowly),
// verify it (X-Hub-Signature-256, X-Gitlab-Token: 401), parse (400), then hand the event to the
// intake. 202 with the review id when queued, 200 for a redelivery, 503 when Redis cannot store
// it, so the code host shows a failed delivery; 404 for a code host that is not configured. Both
// the Nest routes and the server's direct routes for POST /webhooks/<platform> (webhooks.route.ts)
// end here; only webhook.sources.ts knows a platform's headers and payloads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Platform } from '@kritik/core';
import {
  BodyBudgetError,
  BodyTimeoutError,
  BodyTooLargeError,
  type Logger,
  readRawBody,
  refuseBody,
  scrub,
} from '@kritik/server';
import { Inject, Injectable } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { type IntakeEvent, MalformedEventError } from '../intake/intake.event.js';
import { IntakeService, IntakeUnavailableError } from '../intake/intake.service.js';
import { LOGGER } from '../logger.provider.js';
import { UnverifiedBodies } from './unverified-bodies.js';
import { WebhookSources } from './webhook.sources.js';
import { eventLabel, WebhookMetrics, type WebhookOutcome } from './webhooks.metrics.js';

/** GitHub caps webhook payloads at 25 MB (GitLab at 25 MB too, by default). */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

@Injectable()
export class WebhookReceiver {
  constructor(
    private readonly sources: WebhookSources,
    private readonly intake: IntakeService,
    private readonly metrics: WebhookMetrics,
    private readonly unverified: UnverifiedBodies,
    @Inject(BACKEND_CONFIG) private readonly config: BackendConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async receive(req: IncomingMessage, res: ServerResponse, platform: Platform = 'github'): Promise<void> {
    const startedAt = process.hrtime.bigint();
    const source = this.sources.of(platform);
    const { deliveryId, event } = source?.identify(req) ?? {};
    const log = this.logger.child({ platform, deliveryId, event });
    let verified = false;
    let read = false;
    const answer = (status: number, outcome: WebhookOutcome, body: Record<string, unknown>) => {
      this.metrics.record(eventLabel(event, verified), outcome, startedAt);
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (status === 503) headers['retry-after'] = '5';
      const send = () => res.writeHead(status, headers).end(JSON.stringify(body));
      // A body that was not read to its end leaves the connection unusable, and its rest unread.
      if (status === 413 || status === 408 || status === 404 || outcome === 'busy' || (status === 401 && !read)) {
        headers.connection = 'close';
        return refuseBody(req, send);
      }
      send();
    };

    if (!source) {
      return answer(404, 'not_configured', { status: 'rejected', error: `${platform} webhooks are not configured` });
    }
    const rejected = () => {
      log.warn({ signed: req.headers[source.proofHeader.toLowerCase()] !== undefined }, 'webhook signature rejected');
      return answer(401, 'unauthorized', { status: 'rejected', error: `missing or invalid ${source.proofHeader}` });
    };
    if (source.verifyHeaders && !source.verifyHeaders(req)) return rejected();
    const ticket = this.unverified.admit();
    if (!ticket) {
      log.warn(this.unverified.inFlight, 'too many unverified webhook bodies in flight');
      return answer(503, 'busy', { status: 'busy', error: 'too many requests in flight, redeliver later' });
    }
    let raw: Buffer;
    try {
      raw = await readRawBody(req, { limit: MAX_BODY_BYTES, ticket, timeoutMs: this.config.webhooks.bodyTimeoutMs });
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        log.warn({ limit: MAX_BODY_BYTES }, 'webhook body too large');
        return answer(413, 'too_large', { status: 'rejected', error: error.message });
      }
      if (error instanceof BodyBudgetError) {
        log.warn(this.unverified.inFlight, 'unverified webhook bytes over budget');
        return answer(503, 'busy', { status: 'busy', error: 'too many request bytes in flight, redeliver later' });
      }
      if (error instanceof BodyTimeoutError) {
        log.warn({ timeoutMs: error.timeoutMs }, 'webhook body too slow');
        return answer(408, 'timeout', { status: 'rejected', error: error.message });
      }
      log.warn({ err: error }, 'webhook body could not be read');
      return answer(400, 'bad_request', { status: 'rejected', error: 'request body could not be read' });
    } finally {
      // Verified or not, the bytes are either dropped or about to be parsed: the budget is for reading.
      ticket.release();
    }

    read = true;
    verified = source.verify(raw, req);
    if (!verified) return rejected();
    if (!event || !deliveryId) {
      return answer(400, 'bad_request', { status: 'rejected', error: `${source.identityHeaders} are required` });
    }

    let intakeEvent: IntakeEvent;
    try {
      intakeEvent = source.parse(event, JSON.parse(raw.toString('utf8')));
    } catch (error) {
      const message = error instanceof MalformedEventError ? error.message : 'body is not valid JSON';
      log.warn({ error: scrub(message) }, 'webhook payload rejected');
      return answer(400, 'bad_request', { status: 'rejected', error: message });
    }

    try {
      const result = await this.intake.handle({ id: deliveryId, event: intakeEvent }, log);
      switch (result.status) {
        case 'queued':
          return answer(202, 'queued', result);
        case 'ignored':
          return answer(202, 'ignored', result);
        case 'duplicate':
          return answer(200, 'duplicate', result);
      }
    } catch (error) {
      if (error instanceof IntakeUnavailableError) {
        log.error({ err: error.cause }, 'webhook not stored: Redis unavailable');
        return answer(503, 'unavailable', { status: 'unavailable', error: 'storage unavailable, redeliver later' });
      }
      log.error({ err: error }, 'webhook handling failed');
      return answer(500, 'error', { status: 'error', error: 'internal error' });
    }
  }
}
