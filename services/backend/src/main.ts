// Entry point of the backend (`node dist/main.js`): validate config, serve on PORT.
import { ENV } from '@kritik/core';
import { configOrExit, createLogger, listenOrExit, logFormatOf } from '@kritik/server';
import { createApp } from './app.js';
import { loadBackendConfig } from './config/backend.config.js';

const format = logFormatOf(process.env, process.stdout.isTTY);
const config = configOrExit('backend', () => loadBackendConfig(), format);
const logger = createLogger({ name: 'backend', level: config.logLevel, format });
const app = await createApp(config, { logger });
await listenOrExit(logger, () => app.listen(config.port, config.host), config.port, ENV.port);
logger.info(`listening on ${config.host}:${config.port} (webhooks, reviews API, /health, /metrics)`);
