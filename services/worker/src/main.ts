// Entry point of the worker (`node dist/main.js`): validate config, consume the reviews queue,
// serve /health, /ready and /metrics on PORT (default PORTS.worker, 8081).
import 'reflect-metadata';
import { ENV } from '@kritik/core';
import { configOrExit, createLogger, listenOrExit, logFormatOf } from '@kritik/server';
import pino from 'pino';
import { createWorkerApp } from './app/worker.app.js';
import { loadWorkerConfig } from './config/worker.config.js';

const format = logFormatOf(process.env, process.stdout.isTTY);
const config = configOrExit('worker', () => loadWorkerConfig(), format);

// Synchronous: the worker logs little, and Nest re-raises SIGTERM right after the shutdown hooks,
// which would cut an asynchronous logger's last lines (the ones saying what was handed over).
const logger = createLogger({
  name: 'worker',
  level: config.logLevel,
  format,
  destination: pino.destination({ dest: 1, sync: true }),
});
const app = await createWorkerApp(config, { logger });
await listenOrExit(logger, () => app.listen(config.port, config.host), config.port, ENV.port);
logger.info(`listening on ${config.host}:${config.port} (/health, /ready, /metrics)`);
