// Free TCP ports on the loopback interface, for servers that cannot be told to bind port 0
// themselves (redis-server, etcd, kube-apiserver).
import { createServer, type Server } from 'node:net';

function listen(): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise(server));
  });
}

/** `count` distinct free ports on 127.0.0.1 (all held open together, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen());
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  }
}

/** One free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * Runs `start` again (up to `attempts` times) when it fails because a port it chose was taken by
 * another process between choosing and binding it.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const clash = error instanceof Error && /address already in use/i.test(error.message);
      if (!clash || attempt >= attempts) throw error;
    }
  }
}
