import { createHmac } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import { WebhookSignature } from './webhook.signature.js';

const SECRET = 'It is a test webhook secret, 32+';
const sign = (body: Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe(WebhookSignature.name, () => {
  const sut = new WebhookSignature(SECRET);
  const octokit = new Webhooks({ secret: SECRET });
  const body = Buffer.from('{"action":"opened","title":"Grüße ✓"}');

  it('accepts the signature GitHub computes over the body bytes', () => {
    expect(sut.verify(body, sign(body))).toBe(true);
  });

  it('agrees with @octokit/webhooks on valid and invalid signatures of a UTF-8 body', async () => {
    const headers = [
      sign(body),
      sign(body, 'another secret'),
      sign(body).toUpperCase(),
      sign(body).slice(0, -1),
      'sha256=',
      'sha1=00',
    ];
    const ours = headers.map((header) => sut.verify(body, header));
    const theirs = await Promise.all(headers.map((header) => octokit.verify(body.toString('utf8'), header)));
    expect(ours).toEqual(theirs);
    expect(ours[0]).toBe(true);
  });

  it('verifies bytes that are not valid UTF-8 as sent, not as decoded text', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    expect(sut.verify(bytes, sign(bytes))).toBe(true);
    expect(sut.verify(bytes, sign(Buffer.from(bytes.toString('utf8'))))).toBe(false);
  });

  it('rejects a missing signature', () => {
    expect(sut.verify(body, undefined)).toBe(false);
  });

  it('rejects an empty body even with its own signature', () => {
    expect(sut.verify(Buffer.alloc(0), sign(Buffer.alloc(0)))).toBe(false);
  });

  it('rejects a signature of one byte more or less', () => {
    expect(sut.verify(body, sign(body.subarray(1)))).toBe(false);
    expect(sut.verify(Buffer.concat([body, Buffer.from(' ')]), sign(body))).toBe(false);
  });
});
