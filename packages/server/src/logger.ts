// Logging with pino: JSON lines, or one readable line per record on a terminal. Every record
// passes through a redactor that blanks secrets by key (tokens, signatures, keys, authorization
// headers) and by shape (GitHub tokens, bearer credentials, PEM private keys), so a careless log
// call cannot leak one.
import { ENV } from '@kritik/core';
import type { LoggerService } from '@nestjs/common';
import pino from 'pino';

export type Logger = pino.Logger;

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  readonly level?: string;
  /** The service name, logged as `service`. */
  readonly name?: string;
  /** Where lines go; stdout when omitted (tests pass a stream to read them back). */
  readonly destination?: pino.DestinationStream;
  /** JSON lines (the default) or one readable line per record; see {@link logFormatOf}. */
  readonly format?: LogFormat;
}

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * The format an entry point logs in: KRITIK_LOG_FORMAT when it names one, else readable lines
 * for a person at a terminal and JSON for everything else (a file, a pipe, a log collector).
 */
export function logFormatOf(source: NodeJS.ProcessEnv, isTty: boolean | undefined): LogFormat {
  const asked = source[ENV.logFormat]?.trim().toLowerCase();
  if (asked && (LOG_FORMATS as readonly string[]).includes(asked)) return asked as LogFormat;
  return isTty ? 'pretty' : 'json';
}

const LEVEL_STYLE: Record<string, [string, string]> = {
  trace: ['TRACE', '\x1b[90m'],
  debug: ['DEBUG', '\x1b[90m'],
  info: ['INFO ', '\x1b[36m'],
  warn: ['WARN ', '\x1b[33m'],
  error: ['ERROR', '\x1b[31m'],
  fatal: ['FATAL', '\x1b[41m'],
};
const OMITTED = new Set(['time', 'level', 'service', 'msg', 'pid', 'hostname', 'component']);

const fieldText = (value: unknown): string => {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null && 'message' in value && 'type' in value)
    return JSON.stringify(String((value as { message: unknown }).message));
  return JSON.stringify(value);
};

/** One JSON record as a line a person reads: `12:04:05 INFO  worker  message key=value …`. */
export function prettyLine(json: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const [label, tint] = LEVEL_STYLE[String(record.level)] ?? [String(record.level).toUpperCase(), ''];
  const level = color && tint ? `${tint}${label}\x1b[0m` : label;
  const fields = Object.entries(record)
    .filter(([key, value]) => !OMITTED.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  const service = typeof record.service === 'string' ? `${record.service.padEnd(8)} ` : '';
  const message = typeof record.msg === 'string' ? record.msg : '';
  return `${[`${time} ${level} ${service}${message}`.trimEnd(), ...fields].join(' ')}\n`;
}

/** A destination that writes each record of `inner` as a readable line (pino hands over whole lines). */
export function prettyDestination(inner: pino.DestinationStream, color: boolean): pino.DestinationStream {
  return {
    write(chunk: string) {
      let out = '';
      for (const line of chunk.split('\n')) if (line) out += prettyLine(line, color);
      inner.write(out);
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination =
    options.format === 'pretty'
      ? prettyDestination(options.destination ?? pino.destination({ dest: 1, sync: true }), !process.env.NO_COLOR)
      : options.destination;
  return pino(
    {
      level: options.level ?? 'info',
      base: options.name ? { service: options.name } : {},
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      hooks: {
        // Strings in the message itself are scrubbed too (e.g. an error text quoting a header).
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    // Lines are written in batches of 4 KB or every 250 ms, whichever comes first: one write
    // per request would cost a system call each under load.
    destination ?? pino.destination({ sync: false, minLength: 4096, periodicFlush: 250 }),
  );
}

// Keys are compared lower-cased without "-" and "_", so `x-hub-signature-256`, `accessToken`
// and `GITHUB_APP_PRIVATE_KEY` all match; `tokens` (usage counts) does not.
const SENSITIVE_KEY =
  /(token|secret|password|passwd|signature|authorization|cookie|privatekey|apikey|credentials?|jwt|pem)$|signature/;

export const isSensitiveKey = (key: string) => SENSITIVE_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));

const SENSITIVE_VALUES: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
  /\bsk-ant-[A-Za-z0-9_-]{10,}/g,
  /\b(Bearer|token|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bsha(1|256)=[0-9a-f]{40,64}\b/g,
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
];

/** Removes credential-shaped substrings from free text. */
export function scrub(text: string): string {
  let out = text;
  for (const pattern of SENSITIVE_VALUES) out = out.replace(pattern, REDACTED);
  return out;
}

/** A copy of `value` with sensitive keys blanked and strings scrubbed (depth-limited, cycle-safe). */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const error = value as Error & { code?: unknown; status?: unknown };
    return redact(
      { type: error.name, message: error.message, stack: error.stack, code: error.code, status: error.status },
      depth + 1,
      seen,
    );
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isSensitiveKey(key) && v !== undefined && v !== null && v !== '' ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}

/**
 * Nest's logger interface on top of pino, so framework messages are records like ours. Nest's
 * own `log` messages (modules loaded, routes mapped) are start-up noise: they go at debug.
 */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.write('fatal', message, params);
  }

  private write(level: pino.Level, message: unknown, params: unknown[]) {
    // Nest passes the context (a class name) last and, for errors, a stack before it.
    const rest = [...params];
    const context = typeof rest.at(-1) === 'string' ? (rest.pop() as string) : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (stack) fields.stack = stack;
    if (rest.length) fields.details = rest;
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}
