import { Writable } from 'node:stream';
import { createLogger, logFormatOf, PinoLoggerService, prettyLine, REDACTED, redact } from './logger.js';

function capture() {
  // biome-ignore lint/suspicious/noExplicitAny: parsed log lines are walked freely in assertions
  const lines: any[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level: 'debug', destination }) };
}

describe(createLogger.name, () => {
  it('writes one JSON line per record with level, service and message', () => {
    const { lines, logger: sut } = capture();
    sut.info({ deliveryId: 'd-1' }, 'accepted');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', service: 'test', deliveryId: 'd-1', msg: 'accepted' }),
    ]);
  });

  it('redacts headers, tokens, signatures and keys at any depth', () => {
    const { lines, logger: sut } = capture();
    sut.info({
      req: {
        headers: {
          authorization: 'Bearer abc.def.ghi',
          'x-hub-signature-256': 'sha256=00',
          'user-agent': 'GitHub-Hookshot',
        },
      },
      config: { github: { webhookSecret: 'hush', privateKey: 'pem', appId: 12 }, anthropicApiKey: 'k', apiToken: 't' },
      usage: { tokens: { input: 5 } },
    });
    const line = lines[0];
    expect(line.req.headers).toEqual({
      authorization: REDACTED,
      'x-hub-signature-256': REDACTED,
      'user-agent': 'GitHub-Hookshot',
    });
    expect(line.config).toEqual({
      github: { webhookSecret: REDACTED, privateKey: REDACTED, appId: 12 },
      anthropicApiKey: REDACTED,
      apiToken: REDACTED,
    });
    expect(line.usage).toEqual({ tokens: { input: 5 } });
  });

  it('scrubs credential-shaped text from messages and errors', () => {
    const { lines, logger: sut } = capture();
    const token = `ghs_${'a'.repeat(36)}`;
    sut.error({ err: new Error(`request with token ${token} failed`) }, `Authorization: Bearer ${token}`);
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain(token);
    expect(lines[0].err.message).toBe(`request with token ${REDACTED} failed`);
  });

  it('gives child loggers the ids they are created with', () => {
    const { lines, logger } = capture();
    const sut = logger.child({ deliveryId: 'd-2', reviewId: 'r-2' });
    sut.warn('ignored');
    expect(lines[0]).toMatchObject({ deliveryId: 'd-2', reviewId: 'r-2', msg: 'ignored' });
  });
});

describe(redact.name, () => {
  it('replaces a PEM private key inside any string', () => {
    const sut = redact({ note: '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----' });
    expect(sut).toEqual({ note: REDACTED });
  });

  it('survives cycles', () => {
    const value: Record<string, unknown> = { a: 1 };
    value.self = value;
    expect(redact(value)).toEqual({ a: 1, self: '[…]' });
  });
});

describe(PinoLoggerService.name, () => {
  it('logs Nest messages with their context, its start-up chatter at debug', () => {
    const { lines, logger } = capture();
    const sut = new PinoLoggerService(logger);
    sut.log('Mapped {/health, GET} route', 'RouterExplorer');
    sut.error('boom', 'Error: boom\n    at x', 'ExceptionsHandler');
    expect(lines[0]).toMatchObject({ level: 'debug', msg: 'Mapped {/health, GET} route', context: 'RouterExplorer' });
    expect(lines[1]).toMatchObject({
      level: 'error',
      msg: 'boom',
      context: 'ExceptionsHandler',
      stack: expect.stringContaining('at x'),
    });
  });
});

describe(logFormatOf.name, () => {
  it.each([
    [{}, true, 'pretty'],
    [{}, false, 'json'],
    [{}, undefined, 'json'],
    [{ KRITIK_LOG_FORMAT: 'json' }, true, 'json'],
    [{ KRITIK_LOG_FORMAT: 'Pretty' }, false, 'pretty'],
    [{ KRITIK_LOG_FORMAT: 'xml' }, true, 'pretty'],
  ])('reads %j on a terminal=%s as %s', (env, tty, expected) => {
    expect(logFormatOf(env, tty)).toBe(expected);
  });
});

describe(prettyLine.name, () => {
  it('prints time, level, service and message, then the other fields as key=value', () => {
    const sut = prettyLine(
      '{"level":"info","time":"2026-12-04T08:01:02.345Z","service":"worker","msg":"review ended","pr":7,"repo":"acme/shop"}',
    );

    expect(sut).toBe('08:01:02 INFO  worker   review ended pr=7 repo=acme/shop\n');
  });

  it('quotes values with spaces and shows an error by its message', () => {
    const sut = prettyLine(
      '{"level":"warn","msg":"m","why":"a b","err":{"type":"Error","message":"boom","stack":"x"}}',
    );

    expect(sut).toBe(' WARN  m why="a b" err="boom"\n');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('plain text')).toBe('plain text\n');
  });

  it('keeps redaction: a pretty logger never prints a secret', () => {
    const written: string[] = [];
    const sut = createLogger({ format: 'pretty', destination: { write: (line: string) => written.push(line) } });

    sut.info({ token: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }, 'minted');

    expect(written.join('')).toContain(`token=${REDACTED}`);
    expect(written.join('')).not.toContain('ghp_');
  });
});
