#!/usr/bin/env node
// Entry point of `npm start` / `kritik-serve`: Kritik on this machine with the local runner.
// Exit codes: 0 after SIGINT/SIGTERM, 1 when a part fails or ends, 2 for bad configuration.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, createLogger, redactRedisUrl } from '@kritik/server';
import pino from 'pino';
import { loadStandaloneConfig, type StandaloneConfig } from './standalone.config.js';
import { startStandalone } from './standalone.js';

// Synchronous: the few lines this process writes must be out before it exits.
const destination = pino.destination({ dest: 1, sync: true });

let config: StandaloneConfig;
try {
  config = loadStandaloneConfig(process.env);
} catch (error) {
  const logger = createLogger({ name: 'standalone', destination });
  if (error instanceof ConfigError) logger.fatal({ problems: error.problems }, error.message);
  else logger.fatal({ err: error }, 'configuration could not be loaded');
  process.exit(2);
}

const logger = createLogger({ name: 'standalone', level: config.logLevel, destination });
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
    logger.info({ signal }, 'stopping');
    void running.stop().then(() => process.exit(0));
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
