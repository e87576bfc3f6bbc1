// The bench baseline: a bare node:http server that does only what any webhook receiver must,
// HMAC-SHA256 verification of the raw body and one Redis write, and answers 202.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const secret = process.env.GITHUB_WEBHOOK_SECRET;
const redis = new Redis(process.env.REDIS_URL);

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end();
      return;
    }
    try {
      await redis.set(`baseline:delivery:${req.headers['x-github-delivery']}`, '1', 'EX', 3600, 'NX');
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"queued"}');
    } catch {
      res.writeHead(503).end();
    }
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('listening'));
