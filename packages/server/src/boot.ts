// Start-up helpers of every service's main.ts: a configuration that does not validate ends the
// process with exit code 2 and every bad setting named (a readable list on a terminal, one fatal
// JSON line otherwise); a port that is taken ends it with one sentence instead of a stack trace.
import pino from 'pino';
import { ConfigError, describeConfigProblems } from './config.js';
import { createLogger, type LogFormat, type Logger } from './logger.js';

/** The exit code of a process whose configuration does not validate (README, install.md). */
export const EXIT_BAD_CONFIG = 2;

export function configOrExit<T>(service: string, load: () => T, format: LogFormat = 'json'): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError && format === 'pretty') {
      process.stderr.write(describeConfigProblems([{ service, problems: error.problems }]));
      process.exit(EXIT_BAD_CONFIG);
    }
    // Written synchronously: the process exits right after.
    const logger = createLogger({ name: service, destination: pino.destination({ dest: 1, sync: true }) });
    if (error instanceof ConfigError) logger.fatal({ problems: error.problems }, error.message);
    else logger.fatal({ err: error }, 'configuration could not be loaded');
    process.exit(EXIT_BAD_CONFIG);
  }
}

/** The sentence for a listen error: a taken port names its variable and how to pick another. */
export function listenProblem(error: unknown, port: number, variable: string): string | undefined {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE')
    return `port ${port} is already in use by another process: stop that process or set ${variable} to a free port`;
  if (code === 'EACCES') return `port ${port} needs privileges this process does not have: set ${variable} above 1023`;
  if (code === 'EADDRNOTAVAIL') return `the address to listen on does not exist on this machine (port ${port})`;
  return undefined;
}

/** Runs `listen`; a known listen error is logged as one fatal sentence and ends the process with 1. */
export async function listenOrExit(logger: Logger, listen: () => Promise<unknown>, port: number, variable: string) {
  try {
    await listen();
  } catch (error) {
    const problem = listenProblem(error, port, variable);
    if (!problem) throw error;
    logger.fatal(problem);
    process.exit(1);
  }
}
