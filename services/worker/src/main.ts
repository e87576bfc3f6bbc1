// Entry point of the worker (`node dist/main.js`): validate config, consume the reviews queue,
// serve /health, /ready and /metrics on PORT (default PORTS.worker, 8081).
import 'reflect-metadata';
import { ConfigError, createLogger } from '@kritik/server';
import pino from 'pino';
import { createWorkerApp } from './app/worker.app.js';
import { loadWorkerConfig, type WorkerConfig } from './config/worker.config.js';

let config: WorkerConfig;
try {
  config = loadWorkerConfig();
} catch (error) {
  // Written synchronously: the process exits right after.
  const logger = createLogger({ name: 'worker', destination: pino.destination({ dest: 1, sync: true }) });
  if (error instanceof ConfigError) logger.fatal({ problems: error.problems }, error.message);
  else logger.fatal({ err: error }, 'configuration could not be loaded');
  process.exit(1);
}

// Synchronous: the worker logs little, and Nest re-raises SIGTERM right after the shutdown hooks,
// which would cut an asynchronous logger's last lines (the ones saying what was handed over).
const logger = createLogger({
  name: 'worker',
  level: config.logLevel,
  destination: pino.destination({ dest: 1, sync: true }),
});
const app = await createWorkerApp(config, { logger });
await app.listen(config.port, '0.0.0.0');
