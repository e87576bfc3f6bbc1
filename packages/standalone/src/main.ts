#!/usr/bin/env node
// Entry point of `npm start` / `kritik-serve`: Kritik on this machine with the local runner.
// Exit codes: 0 after SIGINT/SIGTERM, 1 when a part fails or ends, 2 for bad configuration.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createLogger,
  describeConfigProblems,
  EXIT_BAD_CONFIG,
  exportLines,
  logFormatOf,
  redactRedisUrl,
} from '@kritik/server';
import pino from 'pino';
import { preflight } from './preflight.js';
import { startStandalone } from './standalone.js';

// Synchronous: the few lines this process writes must be out before it exits.
const destination = pino.destination({ dest: 1, sync: true });
const format = logFormatOf(process.env, process.stdout.isTTY);

const checked = preflight(process.env);
if (!checked.ok) {
  if (format === 'pretty') process.stderr.write(describeConfigProblems(checked.problems));
  else
    createLogger({ name: 'standalone', destination }).fatal(
      { problems: checked.problems.filter((entry) => entry.problems.length > 0), fix: exportLines(checked.problems) },
      'invalid configuration',
    );
  process.exit(EXIT_BAD_CONFIG);
}
const { config } = checked;

const logger = createLogger({ name: 'standalone', level: config.logLevel, destination, format });
for (const warning of checked.warnings) logger.warn(warning);
try {
  const running = await startStandalone({
    config,
    source: process.env,
    logger,
    from: dirname(fileURLToPath(import.meta.url)),
  });
  logger.info(
    {
      webhookUrl: `${running.backendUrl}/webhooks/github`,
      apiUrl: `${running.backendUrl}/api/reviews`,
      workerUrl: running.workerUrl,
      redis: running.redisUrl ? redactRedisUrl(running.redisUrl) : 'through Sentinel',
    },
    'Kritik is running (Ctrl-C stops it)',
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: the services first, then Redis');
    void running.stop().then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  void running.ended.then(async () => {
    if (stopping) return;
    stopping = true;
    await running.stop();
    process.exit(1);
  });
} catch (error) {
  logger.fatal((error as Error).message);
  process.exit(1);
}
