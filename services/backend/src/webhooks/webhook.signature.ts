// X-Hub-Signature-256 verification on the raw body bytes: HMAC-SHA256 with the webhook secret,
// compared in constant time, as @octokit/webhooks does, but over the Buffer as received. Its
// verify() takes a string, so a body would be decoded and re-encoded first (a copy of up to
// 25 MB each way), and bytes that are not valid UTF-8 would be hashed as U+FFFD.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';

export class WebhookSignature {
  constructor(private readonly secret: string) {}

  /** True when `header` is `sha256=<hex HMAC of body>`; an empty body or missing header is never valid. */
  verify(body: Buffer, header: string | undefined): boolean {
    if (!header || body.length === 0) return false;
    const expected = Buffer.from(PREFIX + createHmac('sha256', this.secret).update(body).digest('hex'));
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * X-Gitlab-Token verification: GitLab sends the webhook secret itself, not a signature. Both are
 * hashed first so the comparison takes the same time whatever the length of what was sent.
 */
export class WebhookToken {
  private readonly expected: Buffer;

  constructor(secret: string) {
    this.expected = createHash('sha256').update(secret).digest();
  }

  /** True when `header` is the secret; a missing or empty header is never valid. */
  verify(header: string | undefined): boolean {
    if (!header) return false;
    return timingSafeEqual(createHash('sha256').update(header).digest(), this.expected);
  }
}
