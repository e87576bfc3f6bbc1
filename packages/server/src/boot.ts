// Start-up helper of every service's main.ts: a configuration that does not validate ends the
// process with one fatal JSON line naming every bad setting, instead of a stack trace.
import pino from 'pino';
import { ConfigError } from './config.js';
import { createLogger } from './logger.js';

export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    // Written synchronously: the process exits right after.
    const logger = createLogger({ name: service, destination: pino.destination({ dest: 1, sync: true }) });
    if (error instanceof ConfigError) logger.fatal({ problems: error.problems }, error.message);
    else logger.fatal({ err: error }, 'configuration could not be loaded');
    process.exit(1);
  }
}
