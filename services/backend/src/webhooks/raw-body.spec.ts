import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { BodyBudgetError, BodyTimeoutError, readRawBody } from '@kritik/server';
import { UnverifiedBodies } from './unverified-bodies.js';

/** A request body arriving in `chunks`, with the headers given (no Content-Length: chunked). */
function request(chunks: Buffer[], headers: Record<string, string> = {}, end = true): IncomingMessage {
  const stream = new PassThrough();
  setImmediate(() => {
    for (const chunk of chunks) stream.write(chunk);
    if (end) stream.end();
  });
  return Object.assign(stream, { headers }) as unknown as IncomingMessage;
}

const KiB = 1024;

describe(readRawBody.name, () => {
  it('returns the exact bytes of a chunked body and counts what it allocated against the budget', async () => {
    const budget = new UnverifiedBodies({ maxBytes: 1024 * KiB, maxBodies: 4 });
    const ticket = budget.admit()!;
    const chunks = Array.from({ length: 5 }, (_, i) => Buffer.alloc(50 * KiB, i));

    const sut = await readRawBody(request(chunks), { limit: 25 * 1024 * KiB, ticket });

    expect(sut.equals(Buffer.concat(chunks))).toBe(true);
    // Grown to twice what is needed: 100 KiB for the first chunk, 300 KiB for the third.
    expect(budget.inFlight).toEqual({ bytes: 300 * KiB, bodies: 1 });
    ticket.release();
    expect(budget.inFlight).toEqual({ bytes: 0, bodies: 0 });
  });

  it('refuses a chunked body once its buffer would pass the shared budget', async () => {
    const budget = new UnverifiedBodies({ maxBytes: 256 * KiB, maxBodies: 4 });
    const ticket = budget.admit()!;

    const sut = readRawBody(request(Array.from({ length: 8 }, () => Buffer.alloc(64 * KiB))), {
      limit: 25 * 1024 * KiB,
      ticket,
    });

    await expect(sut).rejects.toBeInstanceOf(BodyBudgetError);
    expect(budget.inFlight.bytes).toBeLessThanOrEqual(256 * KiB);
  });

  it('refuses a declared length larger than the budget before reading a byte', async () => {
    const budget = new UnverifiedBodies({ maxBytes: 256 * KiB, maxBodies: 4 });

    const sut = readRawBody(request([], { 'content-length': String(300 * KiB) }, false), {
      limit: 25 * 1024 * KiB,
      ticket: budget.admit()!,
    });

    await expect(sut).rejects.toBeInstanceOf(BodyBudgetError);
    expect(budget.inFlight.bytes).toBe(0);
  });

  it('gives up on a body that stops arriving', async () => {
    const sut = readRawBody(request([Buffer.from('{"a":')], {}, false), { limit: KiB, timeoutMs: 50 });

    await expect(sut).rejects.toBeInstanceOf(BodyTimeoutError);
  });
});
