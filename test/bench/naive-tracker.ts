/**
 * The naive tracker of the benchmark, written the seed's way: per request, parse the query,
 * then one awaited `MULTI INCR + PFADD` with ioredis, then the GIF. No validation, no batching:
 * what the group commit and the script have to beat.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { PIXEL } from '@rta/tracker';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const headers = { 'Content-Type': 'image/gif', 'Content-Length': PIXEL.length, 'Cache-Control': 'no-store' };
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const minute = new Date().toISOString().slice(0, 16);
  const site = query.get('site') ?? '';
  redis
    .multi()
    .incr(`naive:${site}:${minute}:${query.get('path')}`)
    .pfadd(`naive:${site}:${minute}:u`, query.get('uid') ?? '')
    .exec()
    .then(
      () => {
        res.writeHead(200, headers);
        res.end(PIXEL);
      },
      () => {
        res.writeHead(503, headers);
        res.end(PIXEL);
      },
    );
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
