// What differs between the code hosts' webhooks, and nothing more: which headers name the delivery
// and its event, how a delivery proves where it comes from, and how its payload maps to an intake
// event. The receiver does everything else alike for every platform.
import type { IncomingMessage } from 'node:http';
import type { Platform } from '@kritik/core';
import { Inject, Injectable } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig, webhookSecrets } from '../config/backend.config.js';
import { fromGitHub } from '../github/github.events.js';
import { fromGitLab } from '../gitlab/gitlab.events.js';
import type { IntakeEvent } from '../intake/intake.event.js';
import { WebhookSignature, WebhookToken } from './webhook.signature.js';

export interface WebhookSource {
  readonly platform: Platform;
  /** The header that proves a delivery, as named in a 401. */
  readonly proofHeader: string;
  /** The headers that name a delivery and its event, as named in a 400. */
  readonly identityHeaders: string;
  /** Whether the delivery proves it comes from the code host (compared in constant time). */
  verify(raw: Buffer, req: IncomingMessage): boolean;
  /**
   * For a proof carried in the headers alone (GitLab's token): checked before the body is read,
   * so a sender without it cannot make the backend hold a body at all.
   */
  verifyHeaders?(req: IncomingMessage): boolean;
  /** The delivery's id (the same on a redelivery) and event name, once it is verified. */
  identify(req: IncomingMessage): { deliveryId?: string | undefined; event?: string | undefined };
  /** The intake event; throws MalformedEventError for a payload of the wrong shape. */
  parse(event: string, payload: unknown): IntakeEvent;
}

export const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function gitHubSource(secret: string): WebhookSource {
  const signature = new WebhookSignature(secret);
  return {
    platform: 'github',
    proofHeader: 'X-Hub-Signature-256',
    identityHeaders: 'X-GitHub-Event and X-GitHub-Delivery',
    verify: (raw, req) => signature.verify(raw, header(req, 'x-hub-signature-256')),
    identify: (req) => ({ deliveryId: header(req, 'x-github-delivery'), event: header(req, 'x-github-event') }),
    parse: fromGitHub,
  };
}

/** What a delivery id may be: it becomes part of Redis keys and queue job ids (no `:`). */
const GITLAB_DELIVERY = /^[\w-]{1,128}$/;

export function gitLabSource(secret: string): WebhookSource {
  const token = new WebhookToken(secret);
  return {
    platform: 'gitlab',
    proofHeader: 'X-Gitlab-Token',
    identityHeaders: 'X-Gitlab-Event and X-Gitlab-Event-UUID (or Idempotency-Key)',
    verifyHeaders: (req) => token.verify(header(req, 'x-gitlab-token')),
    // GitLab sends the token with an empty body too; an empty body is refused later as bad JSON.
    verify: (_raw, req) => token.verify(header(req, 'x-gitlab-token')),
    identify: (req) => {
      // Idempotency-Key stays the same when GitLab retries a delivery, X-Gitlab-Event-UUID may not;
      // older GitLab versions send only the latter. Prefixed so no GitHub delivery id can collide.
      const key = header(req, 'idempotency-key') ?? header(req, 'x-gitlab-event-uuid');
      return {
        deliveryId: key && GITLAB_DELIVERY.test(key) ? `gitlab-${key}` : undefined,
        event: header(req, 'x-gitlab-event'),
      };
    },
    parse: fromGitLab,
  };
}

/** The sources of the code hosts configured, each with its secret (see BackendConfig). */
@Injectable()
export class WebhookSources {
  private readonly sources: Partial<Record<Platform, WebhookSource>>;

  constructor(@Inject(BACKEND_CONFIG) config: BackendConfig) {
    const secrets = webhookSecrets(config);
    this.sources = {
      ...(secrets.github ? { github: gitHubSource(secrets.github) } : {}),
      ...(secrets.gitlab ? { gitlab: gitLabSource(secrets.gitlab) } : {}),
    };
  }

  /** The platform's source, or undefined when the platform is not configured. */
  of(platform: Platform): WebhookSource | undefined {
    return this.sources[platform];
  }
}
