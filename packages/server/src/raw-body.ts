// Reads a request body as raw bytes, up to a limit and a time: the backend's webhooks (whose
// signature is computed over exactly these bytes) and the worker's model gateway.
import type { IncomingMessage } from 'node:http';

/** One body's share of a budget of bytes held at once (the backend's unverified webhook bodies). */
export interface BodyTicket {
  /** Accounts `bytes` more of this body; false when the shared budget has no room for them. */
  take(bytes: number): boolean;
  release(): void;
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The shared budget of unverified bytes is spent: the sender should try again later. */
export class BodyBudgetError extends Error {
  constructor() {
    super('too many unverified request bytes in flight');
    this.name = 'BodyBudgetError';
  }
}

export class BodyTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`request body did not arrive within ${timeoutMs} ms`);
    this.name = 'BodyTimeoutError';
  }
}

export interface ReadBodyOptions {
  /** Largest body accepted (413 past it). */
  readonly limit: number;
  /** The body's share of the unverified-bytes budget: every byte is taken from it as it arrives. */
  readonly ticket?: BodyTicket;
  /** The whole body must arrive within this time, however slowly it trickles. */
  readonly timeoutMs?: number;
}

/**
 * The whole body, or an error as soon as it passes `limit` (by Content-Length before reading
 * anything), exceeds the shared budget, or takes too long. The rest of a refused body is not
 * read: the caller answers and closes the connection (see `refuseBody`).
 */
export function readRawBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { limit, ticket, timeoutMs } = options;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.pause();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  // A declared length is taken from the budget at once and read into one buffer of that size;
  // socket chunks are slices of larger read buffers, so keeping them would hold more than counted.
  const known = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
  if (known !== undefined && ticket && !ticket.take(known)) {
    req.pause();
    return Promise.reject(new BodyBudgetError());
  }
  return new Promise((resolve, reject) => {
    let body = known !== undefined ? Buffer.allocUnsafe(known) : Buffer.alloc(0);
    let size = 0;
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => fail(new BodyTimeoutError(timeoutMs)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const fail = (error: Error) => {
      cleanup();
      body = Buffer.alloc(0);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) return fail(new BodyTooLargeError(limit));
      if (known !== undefined) {
        // More than declared: the parser would not hand it over; guard anyway.
        if (size + chunk.length > known) return fail(new BodyTooLargeError(known));
      } else if (size + chunk.length > body.length) {
        // Without a declared length the buffer grows by doubling; what it allocates is what counts.
        const length = Math.min(limit, Math.max(64 * 1024, (size + chunk.length) * 2));
        if (ticket && !ticket.take(length - body.length)) return fail(new BodyBudgetError());
        const grown = Buffer.allocUnsafe(length);
        body.copy(grown, 0, 0, size);
        body = grown;
      }
      chunk.copy(body, size);
      size += chunk.length;
    };
    const onEnd = () => {
      cleanup();
      resolve(size === body.length ? body : body.subarray(0, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * How long, and how much, of a refused body is still read and dropped after the answer, so the
 * sender (which may still be writing) reads the answer instead of a reset. Reading all of it would
 * let unauthenticated senders make the server allocate, and collect, buffer after buffer.
 */
const DRAIN_MS = 1_000;
const DRAIN_BYTES = 256 * 1024;

/** Sends an answer to a request whose body was refused, then closes its connection. */
export function refuseBody(req: IncomingMessage, send: () => void): void {
  let drained = 0;
  const close = () => req.socket.destroy();
  const timer = setTimeout(close, DRAIN_MS);
  timer.unref();
  req.socket.once('close', () => clearTimeout(timer));
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) close();
  });
  req.on('end', () => clearTimeout(timer));
  send();
  req.resume();
}
