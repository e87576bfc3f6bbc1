import { ConfigError } from '@kritik/server';
import { dataDirOf, loadStandaloneConfig } from './standalone.config.js';

describe(loadStandaloneConfig.name, () => {
  it('defaults to the ports of the cluster and a local Redis', () => {
    const sut = loadStandaloneConfig({});

    expect(sut).toEqual({ port: 8080, workerPort: 8081, host: '127.0.0.1', logLevel: 'info' });
  });

  it('reads REDIS_URL, the ports and the data directory from the environment', () => {
    const sut = loadStandaloneConfig({
      REDIS_URL: 'redis://10.0.0.5:6379',
      PORT: '9000',
      KRITIK_WORKER_PORT: '9001',
      KRITIK_DATA_DIR: '/var/lib/kritik',
    });

    expect(sut).toMatchObject({
      redisUrl: 'redis://10.0.0.5:6379',
      port: 9000,
      workerPort: 9001,
      dataDir: '/var/lib/kritik',
    });
  });

  it('names every bad variable in one error', () => {
    const load = () => loadStandaloneConfig({ REDIS_URL: 'localhost:6379', KRITIK_WORKER_PORT: '70000' });

    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL[\s\S]*KRITIK_WORKER_PORT/);
  });

  it('leaves the services their own config file', () => {
    const sut = loadStandaloneConfig({ KRITIK_CONFIG: '/does/not/exist.yaml' });

    expect(sut.port).toBe(8080);
  });
});

describe(dataDirOf.name, () => {
  it('keeps state under XDG_STATE_HOME when no directory is configured', () => {
    const sut = dataDirOf(loadStandaloneConfig({}), { XDG_STATE_HOME: '/home/me/.state' });

    expect(sut).toBe('/home/me/.state/kritik');
  });
});
