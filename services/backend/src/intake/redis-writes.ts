// Holds a Redis connection's writes until the end of the current event-loop turn. BullMQ sends
// its add only after a few awaits, so corking around the call (inOneWrite) cannot put it in
// the same write as commands issued next to it; corked until setImmediate, it is.
import type { Redis } from 'ioredis';

/** Commands issued on `redis` from now until this turn of the event loop ends leave in one write. */
export function holdWritesThisTurn(redis: Redis): void {
  const stream = redis.status === 'ready' ? redis.stream : undefined;
  if (!stream) return;
  stream.cork();
  setImmediate(() => stream.uncork());
}
