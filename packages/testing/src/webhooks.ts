// GitHub webhook deliveries as GitHub sends them: the payload shape of `pull_request` events,
// the X-Hub-Signature-256 HMAC over the exact bytes, and the delivery headers.
import { createHmac, randomUUID } from 'node:crypto';
import type { PullRequestRef } from './world.js';

/** A `pull_request` payload with the fields GitHub always sends that Kritik reads, and a few it does not. */
export function pullRequestPayload(action: string, pr: PullRequestRef): Record<string, unknown> {
  const author = { login: pr.author ?? 'contributor', id: 1001, type: 'User' };
  const repository = {
    id: 4242,
    name: pr.repo,
    full_name: `${pr.owner}/${pr.repo}`,
    private: true,
    owner: { login: pr.owner, id: 2002, type: 'Organization' },
    default_branch: 'main',
  };
  return {
    action,
    number: pr.number,
    pull_request: {
      id: 900_000 + pr.number,
      number: pr.number,
      state: 'open',
      draft: false,
      title: `Change ${pr.number}`,
      user: author,
      head: { ref: `feature-${pr.number}`, sha: pr.headSha, repo: repository },
      base: { ref: 'main', sha: pr.baseSha, repo: repository },
      html_url: `https://github.com/${pr.owner}/${pr.repo}/pull/${pr.number}`,
    },
    repository,
    installation: { id: pr.installationId, node_id: 'MDIz' },
    sender: author,
  };
}

export interface Delivery {
  readonly event: string;
  readonly id: string;
  readonly body: string;
}

export function delivery(event: string, payload: unknown, id: string = randomUUID()): Delivery {
  return { event, id, body: JSON.stringify(payload) };
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** POSTs a signed delivery to the backend's webhook endpoint. */
export async function sendWebhook(backendUrl: string, secret: string, d: Delivery): Promise<WebhookAnswer> {
  const response = await fetch(`${backendUrl}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/e2e',
      'x-github-event': d.event,
      'x-github-delivery': d.id,
      'x-github-hook-id': '1',
      'x-hub-signature-256': signature(secret, d.body),
    },
    body: d.body,
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, body };
}
