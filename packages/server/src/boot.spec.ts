import { createServer } from 'node:http';
import { listenProblem } from './boot.js';
import { listen, portOf } from './listen.js';

describe(listenProblem.name, () => {
  it('says a taken port is in use and which variable picks another', async () => {
    const first = createServer();
    await listen(first, 0, '127.0.0.1');
    const port = portOf(first)!;
    try {
      const error = await listen(createServer(), port, '127.0.0.1').then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(listenProblem(error, port, 'PORT')).toBe(
        `port ${port} is already in use by another process: stop that process or set PORT to a free port`,
      );
    } finally {
      first.close();
    }
  });

  it('leaves other errors to their stack trace', () => {
    expect(listenProblem(new Error('boom'), 8080, 'PORT')).toBeUndefined();
  });
});
