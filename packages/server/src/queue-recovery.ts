// Keeps long-lived BullMQ queues usable after a failed connection set-up, and says which are not.
// BullMQ runs a queue's set-up (wait for the connection, INFO for the server version) once per
// Queue object and caches the promise: one failure (INFO past the command timeout, the
// connection dropping just after connecting) would fail every later command of that queue
// while Redis itself is fine. A failed set-up is redone on a fresh backend over the same shared
// connection, in place, so every holder of the Queue gets the working one. The backend's
// webhook queues and the worker's producer/reconciler queues both go through this one owner.
import { getQueueToken } from '@nestjs/bullmq';
import type { FactoryProvider, InjectionToken, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createRedisBackend, type Queue, type RedisQueueBackend, Worker } from 'bullmq';
import type { Logger } from './logger.js';

/** Pause before redoing a failed set-up; while Redis is down a set-up waits instead of failing. */
const RETRY_MS = 1_000;

/** Nest starts and stops it as a provider (see queueRecoveryProvider). */
export class QueueRecovery implements OnModuleInit, OnApplicationShutdown {
  /** Queues whose current set-up failed, with the reason, until a fresh one succeeds. */
  private readonly failures = new Map<Queue, Error>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly queues: readonly Queue[],
    private readonly logger: Logger,
    private readonly retryMs = RETRY_MS,
  ) {
    // Unheard, a queue's 'error' event ends the process (the worker's did, at its first failed
    // set-up), and it can come before any module is initialised. The Redis provider already logs
    // the outage (as JSON, rate-limited), so the queues' copies are only counted at debug level.
    for (const queue of queues) {
      queue.on('error', (error) => this.logger.debug({ queue: queue.name, err: error }, 'queue connection error'));
    }
  }

  onModuleInit() {
    for (const queue of this.queues) this.watch(queue, queue.backend);
  }

  onApplicationShutdown() {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Names of the queues that cannot take commands now, with why; empty when all can. */
  async unusable(timeoutMs = 1_000): Promise<Record<string, string>> {
    const reasons: Record<string, string> = {};
    await Promise.all(
      this.queues.map(async (queue) => {
        const failure = this.failures.get(queue);
        if (failure) {
          reasons[queue.name] = `connection set-up failed: ${failure.message}`;
          return;
        }
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            queue.waitUntilReady(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
        } catch (error) {
          reasons[queue.name] = (error as Error).message;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return reasons;
  }

  private watch(queue: Queue, backend: RedisQueueBackend) {
    backend.waitUntilReady().then(
      () => {
        if (queue.backend === backend && this.failures.delete(queue))
          this.logger.info({ queue: queue.name }, 'queue usable again');
      },
      (error: Error) => {
        if (this.stopped || queue.closing || queue.backend !== backend) return;
        if (!this.failures.has(queue))
          this.logger.warn({ queue: queue.name, err: error }, 'queue connection set-up failed; redoing it');
        this.failures.set(queue, error);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.renew(queue, backend);
        }, this.retryMs);
        timer.unref();
        this.timers.add(timer);
      },
    );
  }

  private renew(queue: Queue, failed: RedisQueueBackend) {
    if (this.stopped || queue.closing) return;
    this.watch(queue, renewBackend(queue, failed));
  }
}

/** A QueueRecovery of the named queues registered in the providing module, logging to `logger`. */
export function queueRecoveryProvider(
  logger: InjectionToken,
  ...names: readonly string[]
): FactoryProvider<QueueRecovery> {
  return {
    provide: QueueRecovery,
    inject: [logger, ...names.map((name) => getQueueToken(name))],
    useFactory: (log: Logger, ...queues: Queue[]) => new QueueRecovery(queues, log),
  };
}

/**
 * Gives a Queue or Worker a fresh backend in place of `failed`, built as its constructor built the
 * first (a Worker's with its own blocking connection), and lets the failed one go.
 */
function renewBackend(target: Queue | Worker, failed: RedisQueueBackend): RedisQueueBackend {
  const fresh = createRedisBackend(target.name, target.opts, { withBlockingConnection: target instanceof Worker });
  // What the constructor does for its first backend: its errors are the owner's.
  const owner = target as { emit(event: 'error', error: Error): boolean };
  fresh.on('error', (error: Error) => owner.emit('error', error));
  target.backend = fresh;
  // The main connection is shared: closing the failed backend only detaches it from the client
  // (and closes a Worker's own blocking connection).
  failed
    .close()
    .catch(() => undefined)
    .finally(() => failed.removeAllListeners());
  return fresh;
}

/**
 * Runs a BullMQ consumer until it is paused or closed. A Worker whose connection set-up failed
 * (INFO refused or timed out, the connection dropped while connecting) keeps that failure for good,
 * and its run() then spins on it without yielding, which stops the whole process. So the consumer
 * runs only on a backend whose set-up succeeded: a failed one is rebuilt every second until one
 * does. A run that ends on an error later (a stalled check failing outright) starts again too.
 */
export async function keepConsuming(worker: Worker, logger: Logger): Promise<void> {
  let warned = false;
  const pause = () => new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
  while (!worker.closing) {
    const backend = worker.backend;
    const failure = await backend.waitUntilReady().then(
      () => undefined,
      (error: Error) => error,
    );
    if (worker.closing) return;
    if (failure) {
      if (!warned) logger.warn({ queue: worker.name, err: failure }, 'queue consumer set-up failed; redoing it');
      warned = true;
      renewBackend(worker, backend);
      await pause();
      continue;
    }
    if (warned) logger.info({ queue: worker.name }, 'queue consumer set up');
    warned = false;
    try {
      await worker.run();
      return;
    } catch (error) {
      if (worker.closing) return;
      logger.warn({ queue: worker.name, err: error }, 'the queue consumer stopped; starting it again');
      await pause();
    }
  }
}
