// The application's root pino logger as an injectable, so request handlers log JSON lines
// tagged with their delivery or review id through child loggers.
export const LOGGER = 'KRITIK_LOGGER';
