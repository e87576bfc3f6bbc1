import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createHttpsFetch, type HttpsFetch } from './https-fetch.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe(createHttpsFetch.name, () => {
  const servers: Server[] = [];
  let sut: HttpsFetch;

  beforeEach(() => {
    sut = createHttpsFetch({ timeoutMs: 300 });
  });
  afterEach(async () => {
    sut.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const start = async (handler: Handler) => {
    const { server, url } = await serve(handler);
    servers.push(server);
    return url;
  };

  it('answers with the status, the headers in lower case and the body as sent', async () => {
    const url = await start((req, res) => {
      res.writeHead(201, { 'Content-Type': 'application/json', 'X-GitHub-Request-Id': 'A1' });
      req.pipe(res);
    });

    const res = await sut(`${url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });

    expect(res.status).toBe(201);
    expect(Object.fromEntries(res.headers)).toMatchObject({ 'x-github-request-id': 'A1' });
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(await res.json()).toEqual({ a: 1 });
  });

  it('decompresses a gzip body', async () => {
    const url = await start((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzipSync('compressed text'));
    });

    expect(await (await sut(url)).text()).toBe('compressed text');
  });

  it('follows a redirect and keeps no credentials for another origin', async () => {
    const seen: (string | undefined)[] = [];
    const target = await start((req, res) => {
      seen.push(req.headers.authorization);
      res.end('moved here');
    });
    const origin = await start((_req, res) => {
      res.writeHead(301, { location: `${target}/repos/new/name` });
      res.end();
    });

    const res = await sut(`${origin}/repos/old/name`, { headers: { authorization: 'token secret' } });

    expect(await res.text()).toBe('moved here');
    expect(res.url).toBe(`${target}/repos/new/name`);
    expect(seen).toEqual([undefined]);
  });

  it('rejects like fetch, with the cause, when nothing listens', async () => {
    const url = await start(() => {});
    servers[0]!.close();
    servers.length = 0;

    await expect(sut(url)).rejects.toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
      cause: expect.any(Error),
    });
  });

  it('fails a request that gets no answer within the timeout', async () => {
    const url = await start(() => {});

    await expect(sut(url)).rejects.toMatchObject({
      cause: expect.objectContaining({ message: expect.stringContaining('300 ms') }),
    });
  });

  it('stops a request when its signal aborts', async () => {
    const url = await start(() => {});
    const controller = new AbortController();
    const pending = sut(url, { signal: controller.signal });
    controller.abort();

    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
