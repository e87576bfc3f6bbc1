// Entry point of the backend (`node dist/main.js`): validate config, serve on PORT.
import { configOrExit } from '@kritik/server';
import { createApp } from './app.js';
import { loadBackendConfig } from './config/backend.config.js';

const config = configOrExit('backend', () => loadBackendConfig());
const app = await createApp(config);
await app.listen(config.port, config.host);
