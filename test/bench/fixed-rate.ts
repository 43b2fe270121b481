/**
 * `fixed-rate.ts <port> <req/s> <seconds>`: GET /p.gif at a fixed rate with autocannon, in a
 * process of its own (at 2,000 req/s it is far from its own limit), printing p50 and p99 in ms.
 */
import autocannon from 'autocannon';
import { CHROME_UA } from './harness.js';

const [port, rate, seconds] = process.argv.slice(2).map(Number) as [number, number, number];
let n = 0;
const result = await autocannon({
  url: `http://127.0.0.1:${port}`,
  connections: 16,
  duration: seconds,
  overallRate: rate,
  headers: { 'user-agent': CHROME_UA },
  requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/p.gif?site=example.com&path=%2Fp%2F${++n % 1_000}&uid=u${n % 100_000}` }) }],
});
process.stdout.write(`${JSON.stringify({ p50: result.latency.p50, p99: result.latency.p99 })}\n`);
