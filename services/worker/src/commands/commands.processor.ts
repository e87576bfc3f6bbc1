// The consumer of the `commands` queue the backend fills for `@<bot> help` and `@<bot> review`:
// one answer per comment, transient failures tried again later through the delayed set (a
// bounded number of times, the delay doubling), lasting ones ended at once; every end logged
// and counted.
import {
  backoffDelay,
  COMMANDS_QUEUE,
  type CommandJob,
  commandJobSchema,
  isConversationCommand,
  isSwitchCommand,
  repoFullName,
} from '@kritik/core';
import { keepConsuming } from '@kritik/server';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CommandSettings, WorkerConfig } from '../config/worker.config.js';
import { WorkerMetrics } from '../metrics/worker.metrics.js';
import { WORKER_CONFIG, WORKER_LOGGER } from '../scheduling/tokens.js';
import { type CommandEnd, CommandService } from './command.service.js';
import { CommandFailure, judgeFailure } from './command-failure.js';

export class CommandsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
    private readonly commands: CommandService,
    private readonly metrics: WorkerMetrics,
  ) {
    super();
  }

  onApplicationBootstrap() {
    this.worker.on('error', (err) => this.logger.warn({ err }, 'commands queue consumer error'));
    void keepConsuming(this.worker, this.logger);
  }

  async process(job: Job, token?: string): Promise<CommandEnd> {
    const parsed = commandJobSchema.safeParse(job.data);
    if (!parsed.success) {
      this.metrics.commands.inc({ command: 'unknown', outcome: 'failed', cause: 'invalid' });
      this.logger.error({ jobId: job.id }, 'invalid command job in the queue');
      throw new UnrecoverableError(`invalid command job: ${z.prettifyError(parsed.error)}`);
    }
    const command = parsed.data;
    const attempt = job.attemptsStarted;
    const log = this.logger.child({
      command: command.command,
      repo: repoFullName(command.repo),
      pr: command.pr,
      deliveryId: command.deliveryId,
      attempt,
    });
    const context = { nonce: command.deliveryId ?? String(job.id), retried: attempt > 1, log };
    try {
      if (isConversationCommand(command.command))
        // Questions run as review Jobs (trigger `answer`); one here was queued by mistake.
        throw new CommandFailure('invalid', `${command.command} is answered by a review Job, not as a command`);
      await this.commands.acknowledge(command, context);
      const refused = await this.commands.refusal(command, context);
      const end: CommandEnd = refused
        ? await this.commands.refuse(command, refused, context)
        : isSwitchCommand(command.command)
          ? { outcome: 'acknowledged' }
          : command.command === 'help'
            ? await this.commands.help(command, context)
            : await this.commands.review(command, context);
      this.metrics.commands.inc({ command: command.command, outcome: end.outcome, cause: 'ok' });
      log.info(end, 'command answered');
      return end;
    } catch (err) {
      return this.failed(job, token, command, err, log);
    }
  }

  private async failed(
    job: Job,
    token: string | undefined,
    command: CommandJob,
    err: unknown,
    log: Logger,
  ): Promise<never> {
    const verdict = judgeFailure(err);
    const attempt = job.attemptsStarted;
    if (verdict.transient && attempt < this.settings.attempts) {
      // attemptsStarted counts this try: the first retry waits backoffMs.
      const delayMs = backoffDelay(attempt - 1, {
        baseDelayMs: this.settings.backoffMs,
        maxDelayMs: this.settings.maxBackoffMs,
      });
      this.metrics.commandRetries.inc({ command: command.command });
      log.warn({ err, cause: verdict.cause, delayMs }, `command failed (${verdict.reason}); trying again`);
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
    this.metrics.commands.inc({ command: command.command, outcome: 'failed', cause: verdict.cause });
    log.error({ err, cause: verdict.cause }, `command failed: ${verdict.reason}`);
    // Unrecoverable: BullMQ must not add retries of its own to the ones counted here.
    throw new UnrecoverableError(verdict.reason);
  }

  private get settings(): CommandSettings {
    return this.config.commands;
  }
}

/** The processor class with its concurrency from config (@Processor options are class metadata). */
export function configuredCommandsProcessor(settings: CommandSettings): Type<CommandsProcessor> {
  // Started by onApplicationBootstrap, which starts it again whenever it stops on an error.
  @Processor(COMMANDS_QUEUE, { concurrency: settings.concurrency, autorun: false })
  class ConfiguredCommandsProcessor extends CommandsProcessor {}
  return ConfiguredCommandsProcessor;
}
