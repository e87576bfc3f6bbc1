// The worker's long-lived `reviews` Queue (the shared ReviewQueueModule's, which the reconciler
// reads and `@<bot> review` adds to) under the shared QueueRecovery: one failed connection
// set-up must not break it until a restart, as it did the backend's (ADR 0006).
import { type Logger, QueueRecovery } from '@kritik/server';
import { getQueueToken } from '@nestjs/bullmq';
import type { FactoryProvider } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { WORKER_LOGGER } from './tokens.js';

/** Provider token of a module's recovery of its registered queues. */
export const QUEUE_RECOVERY = 'KRITIK_QUEUE_RECOVERY';

/** Watches the named queues, as the module that provides this sees them. */
export function queueRecoveryProvider(...names: readonly string[]): FactoryProvider<QueueRecovery> {
  return {
    provide: QUEUE_RECOVERY,
    inject: [WORKER_LOGGER, ...names.map((name) => getQueueToken(name))],
    useFactory: (logger: Logger, ...queues: Queue[]) => new QueueRecovery(queues, logger),
  };
}
