import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempDir } from '@kritik/testing';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config.js';
import {
  describeRedis,
  redactRedisUrl,
  redisClientOptions,
  redisEnv,
  redisSettingsSchema,
} from './redis-connection.js';

const schema = z.object({ redis: redisSettingsSchema });
const load = (source: NodeJS.ProcessEnv) => loadConfig({ schema, env: redisEnv('redis'), source }).redis;
const problems = (source: NodeJS.ProcessEnv) => {
  try {
    load(source);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.source}: ${p.message}`);
    throw error;
  }
  throw new Error('the configuration was accepted');
};

const temp = new TempDir('kritik-redis-config-');
afterAll(() => temp.remove());
const dir = temp.path;
const caFile = temp.write('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

describe('redisSettingsSchema', () => {
  it('reads host, port, database, user and a percent-encoded hostile password from REDIS_URL', () => {
    const password = 'p@ss:w/rd%#? \u00e9';
    const sut = load({ REDIS_URL: `redis://kritik-app:${encodeURIComponent(password)}@redis.internal:6380/3` });

    expect(sut).toEqual({
      target: { kind: 'server', host: 'redis.internal', port: 6380 },
      db: 3,
      username: 'kritik-app',
      password,
    });
  });

  it('defaults to port 6379 and database 0, and reads IPv6 hosts', () => {
    expect(load({ REDIS_URL: 'redis://[::1]' })).toEqual({
      target: { kind: 'server', host: '::1', port: 6379 },
      db: 0,
    });
  });

  it('turns on TLS for rediss:// and trusts the CA bundle of KRITIK_REDIS_CA_FILE', () => {
    const sut = load({ REDIS_URL: 'rediss://cache.example.com:6380', KRITIK_REDIS_CA_FILE: caFile });

    expect(sut.tls).toEqual({ ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(redisClientOptions(sut)).toMatchObject({ host: 'cache.example.com', port: 6380, tls: { ca: sut.tls?.ca } });
  });

  it('takes user and password from their own variables, so a password needs no URL encoding', () => {
    const sut = load({
      REDIS_URL: 'redis://redis.internal',
      KRITIK_REDIS_USERNAME: 'kritik',
      KRITIK_REDIS_PASSWORD: 'a:b@c/d',
    });

    expect(sut).toMatchObject({ username: 'kritik', password: 'a:b@c/d' });
  });

  it('accepts the same password in REDIS_URL and KRITIK_REDIS_PASSWORD, as the chart gives both', () => {
    expect(load({ REDIS_URL: 'redis://:same@r:6379', KRITIK_REDIS_PASSWORD: 'same' }).password).toBe('same');
  });

  it('connects through sentinels with the master name, sentinel login and TLS for both', () => {
    const sut = load({
      KRITIK_REDIS_SENTINELS: 'sentinel-0.redis:26379, sentinel-1.redis ,[fd00::5]:26380',
      KRITIK_REDIS_SENTINEL_NAME: 'mymaster',
      KRITIK_REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      KRITIK_REDIS_USERNAME: 'kritik',
      KRITIK_REDIS_PASSWORD: 'data-secret',
      KRITIK_REDIS_DB: '2',
      KRITIK_REDIS_TLS: 'true',
    });

    expect(redisClientOptions(sut)).toEqual({
      sentinels: [
        { host: 'sentinel-0.redis', port: 26379 },
        { host: 'sentinel-1.redis', port: 26379 },
        { host: 'fd00::5', port: 26380 },
      ],
      name: 'mymaster',
      role: 'master',
      db: 2,
      username: 'kritik',
      password: 'data-secret',
      sentinelPassword: 'sentinel-secret',
      tls: {},
      sentinelTLS: {},
      enableTLSForSentinelMode: true,
      failoverDetector: true,
    });
  });

  it('describes the connection for logs without any password', () => {
    const sut = load({
      KRITIK_REDIS_SENTINELS: 's1:26379,s2:26379',
      KRITIK_REDIS_SENTINEL_NAME: 'mymaster',
      KRITIK_REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      KRITIK_REDIS_USERNAME: 'kritik',
      KRITIK_REDIS_PASSWORD: 'data-secret',
    });

    expect(describeRedis(sut)).toBe('redis://kritik@mymaster/0 via sentinels s1:26379,s2:26379');
    expect(redactRedisUrl('rediss://u:data-secret@h:1/0')).toBe('rediss://u:***@h:1/0');
  });

  it('requires REDIS_URL or sentinels, naming both', () => {
    expect(problems({})).toEqual([
      'REDIS_URL: is required (or KRITIK_REDIS_SENTINELS with KRITIK_REDIS_SENTINEL_NAME)',
    ]);
  });

  it('refuses REDIS_URL together with sentinels', () => {
    expect(
      problems({ REDIS_URL: 'redis://r', KRITIK_REDIS_SENTINELS: 's:26379', KRITIK_REDIS_SENTINEL_NAME: 'm' }),
    ).toEqual(['KRITIK_REDIS_SENTINELS: cannot be combined with REDIS_URL: set one of them']);
  });

  it('requires the master name with sentinels, and sentinel settings only with sentinels', () => {
    expect(problems({ KRITIK_REDIS_SENTINELS: 's:26379' })).toEqual([
      'KRITIK_REDIS_SENTINEL_NAME: is required with KRITIK_REDIS_SENTINELS',
    ]);
    expect(problems({ REDIS_URL: 'redis://r', KRITIK_REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([
      'KRITIK_REDIS_SENTINEL_PASSWORD: is only read with KRITIK_REDIS_SENTINELS',
    ]);
  });

  it('names a bad sentinel entry by position without echoing it (it may be a misplaced secret)', () => {
    const sut = problems({
      KRITIK_REDIS_SENTINELS: 's:26379,hunter2:pass@word,s3:99999',
      KRITIK_REDIS_SENTINEL_NAME: 'm',
    });

    expect(sut).toEqual([
      'KRITIK_REDIS_SENTINELS: entry 2 is not host:port',
      'KRITIK_REDIS_SENTINELS: entry 3 is not host:port',
    ]);
    expect(sut.join('\n')).not.toContain('hunter2');
  });

  it.each([
    ['http://redis:6379', 'REDIS_URL: must be a redis:// or rediss:// URL'],
    ['redis://', 'REDIS_URL: names no host'],
    ['redis://r:6379/zero', 'REDIS_URL: path must be a database number'],
    [
      'redis://r:6379/0?tls=true',
      'REDIS_URL: query and fragment are not read: use the KRITIK_REDIS_TLS and other KRITIK_REDIS_* variables',
    ],
    ['redis://:%E0%A4%A@r', 'REDIS_URL: has a badly percent-encoded user or password'],
  ])('rejects REDIS_URL %s', (url, message) => {
    expect(problems({ REDIS_URL: url })).toEqual([message]);
  });

  it('never echoes a rejected URL, which may hold a password', () => {
    expect(problems({ REDIS_URL: 'redis://:hunter2@r/x' }).join('\n')).not.toContain('hunter2');
  });

  it('refuses a password that differs from the one in REDIS_URL', () => {
    expect(problems({ REDIS_URL: 'redis://:old@r', KRITIK_REDIS_PASSWORD: 'new' })).toEqual([
      'KRITIK_REDIS_PASSWORD: differs from the one in REDIS_URL: give it once',
    ]);
  });

  it('requires a password with an ACL user', () => {
    expect(problems({ REDIS_URL: 'redis://kritik@r' })).toEqual([
      'KRITIK_REDIS_PASSWORD: is required with an ACL user (KRITIK_REDIS_USERNAME or the user in REDIS_URL)',
    ]);
  });

  it('refuses TLS off for a rediss:// URL, and a CA file without TLS', () => {
    expect(problems({ REDIS_URL: 'rediss://r', KRITIK_REDIS_TLS: 'false' })).toEqual([
      'KRITIK_REDIS_TLS: is false but REDIS_URL is rediss://',
    ]);
    expect(problems({ REDIS_URL: 'redis://r', KRITIK_REDIS_CA_FILE: caFile })).toEqual([
      'KRITIK_REDIS_CA_FILE: needs TLS: set KRITIK_REDIS_TLS=true or use a rediss:// URL',
    ]);
  });

  it('names a CA file that is missing or holds no certificate', () => {
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');

    expect(problems({ REDIS_URL: 'rediss://r', KRITIK_REDIS_CA_FILE: join(dir, 'missing.pem') })).toEqual([
      'KRITIK_REDIS_CA_FILE: cannot be read: ENOENT',
    ]);
    expect(problems({ REDIS_URL: 'rediss://r', KRITIK_REDIS_CA_FILE: notPem })).toEqual([
      'KRITIK_REDIS_CA_FILE: holds no PEM certificate',
    ]);
  });

  it('reads the same settings from the YAML file', () => {
    const file = join(dir, 'kritik.yaml');
    writeFileSync(file, 'redis:\n  sentinels: [a:26379, b:26379]\n  sentinelName: mymaster\n  tls: true\n');

    const sut = loadConfig({ schema, env: redisEnv('redis'), source: {}, file }).redis;

    expect(sut.target).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26379 },
      ],
      masterName: 'mymaster',
    });
    expect(sut.tls).toEqual({});
  });
});
