import { createServer } from 'node:net';
import { freePorts, retryOnPortClash } from './ports.js';

describe(freePorts.name, () => {
  it('returns distinct ports that can be bound on 127.0.0.1', async () => {
    const sut = await freePorts(3);

    const server = createServer();
    await new Promise<void>((resolve) => server.listen(sut[0], '127.0.0.1', resolve));
    server.close();
    expect(new Set(sut).size).toBe(3);
  });
});

describe(retryOnPortClash.name, () => {
  it('starts again when the first start found its port taken', async () => {
    let calls = 0;
    const sut = () =>
      retryOnPortClash(async () => {
        calls += 1;
        if (calls === 1) throw new Error('listen tcp 127.0.0.1:4000: bind: address already in use');
        return 'started';
      });

    await expect(sut()).resolves.toBe('started');
    expect(calls).toBe(2);
  });

  it('passes any other failure through at once', async () => {
    let calls = 0;
    const sut = () =>
      retryOnPortClash(async () => {
        calls += 1;
        throw new Error('etcd exited');
      });

    await expect(sut()).rejects.toThrow('etcd exited');
    expect(calls).toBe(1);
  });
});
