// Starts a plain node:http server on a port, for the listeners beside Nest's own (metrics, the
// model gateway): resolves once it listens, rejects when the port cannot be taken.
import type { Server } from 'node:http';

export function listen(server: Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The port a server listens on (the one asked for, or the one given for port 0). */
export function portOf(server: Server | undefined): number | undefined {
  const address = server?.address();
  return typeof address === 'object' && address ? address.port : undefined;
}
