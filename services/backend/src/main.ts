// Entry point of the backend (`node dist/main.js`): validate config, serve on PORT.
import { ConfigError, createLogger } from '@kritik/server';
import pino from 'pino';
import { createApp } from './app.js';
import { type BackendConfig, loadBackendConfig } from './config/backend.config.js';

let config: BackendConfig;
try {
  config = loadBackendConfig();
} catch (error) {
  // Written synchronously: the process exits right after.
  const logger = createLogger({ name: 'backend', destination: pino.destination({ dest: 1, sync: true }) });
  if (error instanceof ConfigError) logger.fatal({ problems: error.problems }, error.message);
  else logger.fatal({ err: error }, 'configuration could not be loaded');
  process.exit(1);
}

const app = await createApp(config);
await app.listen(config.port, config.host);
