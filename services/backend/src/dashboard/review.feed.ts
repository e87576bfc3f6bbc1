// The live feed behind the dashboard's server-sent events: one poll per backend process of the
// records changed since the last (the index of all records is scored by last change), handed to
// every open stream. No write path is touched, so webhooks cost the same with the dashboard on.
import type { ReviewRecord } from '@kritik/core';
import { type Logger, ReviewHistory } from '@kritik/server';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER } from '../logger.provider.js';

/** How often the feed looks for changes while anyone listens. */
export const FEED_INTERVAL_MS = 1_000;

type Listener = (record: ReviewRecord) => void;

@Injectable()
export class ReviewFeed implements OnModuleDestroy {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private since = Date.now();
  private polling = false;
  /** Change time last sent per record, for the look-back window only. */
  private readonly sent = new Map<string, string>();

  constructor(
    private readonly history: ReviewHistory,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Calls `listener` with each changed record until the returned function is called. */
  subscribe(listener: Listener): () => void {
    if (this.listeners.size === 0) {
      this.since = Date.now() - FEED_INTERVAL_MS;
      this.timer = setInterval(() => void this.poll(), FEED_INTERVAL_MS);
      this.timer.unref();
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  onModuleDestroy(): void {
    this.listeners.clear();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      // Index scores are the writers' clocks: look back one interval so a change stamped a little
      // before it landed is not missed, and send each (record, change) once.
      const { records, until } = await this.history.changedSince(this.since - FEED_INTERVAL_MS);
      this.since = Math.max(this.since, until);
      for (const record of records) {
        if (this.sent.get(record.id) === record.updatedAt) continue;
        this.sent.set(record.id, record.updatedAt);
        for (const listener of this.listeners) listener(record);
      }
      const horizon = this.since - 3 * FEED_INTERVAL_MS;
      for (const [id, at] of this.sent) if (Date.parse(at) < horizon) this.sent.delete(id);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'review feed poll failed; retrying');
    } finally {
      this.polling = false;
    }
  }
}
