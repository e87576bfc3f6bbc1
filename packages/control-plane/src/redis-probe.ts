// Whether a Redis server answers on a loopback port: one PING on a raw socket, no client library,
// for whoever starts redis-server (or redis-sentinel) and waits for it: the harness and `npm start`.
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface RedisProbeOptions {
  /** Speak TLS (the server's certificate is not checked: only whether it answers). */
  readonly tls?: boolean;
  readonly timeoutMs?: number;
}

/** True once the server on `port` answers a PING: +PONG, or -NOAUTH from one that wants a password (it is up all the same). */
export function redisAnswers(port: number, options: RedisProbeOptions = {}): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket: Socket = options.tls
      ? connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (up: boolean) => {
      socket.destroy();
      resolveProbe(up);
    };
    socket.setTimeout(options.timeoutMs ?? 1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once(options.tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}
