import { createServer, type Server } from 'node:net';
import { redisAnswers } from './redis-probe.js';

/** A TCP server on a free loopback port that answers every first read with `reply`. */
async function answering(reply: string | undefined): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    // Read (and drop) what arrives, so the client's close is seen and the server can close.
    socket.on('data', () => {
      if (reply !== undefined) socket.write(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

describe(redisAnswers.name, () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it.each([
    ['+PONG\r\n', true],
    ['-NOAUTH Authentication required.\r\n', true],
    ['-LOADING Redis is loading the dataset in memory\r\n', false],
    ['HTTP/1.1 400 Bad Request\r\n\r\n', false],
  ])('answers %j with %s', async (reply, expected) => {
    const { port, server } = await answering(reply);
    servers.push(server);
    await expect(redisAnswers(port)).resolves.toBe(expected);
  });

  it('is false when nothing listens', async () => {
    const { port, server } = await answering(undefined);
    await new Promise((resolve) => server.close(resolve));
    await expect(redisAnswers(port)).resolves.toBe(false);
  });

  it('is false when the server never answers within the timeout', async () => {
    const { port, server } = await answering(undefined);
    servers.push(server);
    await expect(redisAnswers(port, { timeoutMs: 100 })).resolves.toBe(false);
  });
});
