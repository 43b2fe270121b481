/**
 * `pnpm bench`: answers three questions in one run, each as a ratio against a baseline measured
 * in the same run with the same load generator.
 *
 * 1. Page views per second through GET /p.gif (validation, visitor hash, all Redis writes)
 *    next to a bare node:http server answering the same GIF: same autocannon, same connections.
 * 2. Time to flush one minute holding 100,000 distinct counters into DuckDB.
 * 3. The tracker's p99 latency at a fixed request rate, without and with that flush running
 *    in a flusher process of its own (as docker-compose deploys it).
 *
 * The throughput variants alternate over several rounds and the median ratio is printed, so a
 * burst of noise from other work on the machine does not decide the result.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); uses a random key prefix and
 * deletes its keys afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { AnalyticsStore, minuteOf } from '@rta/redis-store';
import { flushClosedMinutes } from '@rta/flusher';
import { createDuckDBWarehouse } from '@rta/warehouse';
import { deleteKeysOf, randomPrefix, REDIS_URL } from '../support/redis.js';
import { ROOT } from '../support/child.js';
import { fillLargeMinute } from '../support/large-minute.js';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const COUNTERS = 100_000;
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

function startProcess(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const port = /listening (\d+)/.exec(out)?.[1] ?? /"port":(\d+)/.exec(out)?.[1];
      if (port) resolve({ child, port: Number(port) });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

function load(port: number, options: { duration: number; overallRate?: number; connections?: number }) {
  let n = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: options.connections ?? CONNECTIONS,
    duration: options.duration,
    overallRate: options.overallRate,
    headers: { 'user-agent': UA },
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          n++;
          return { ...req, path: `/p.gif?site=example.com&path=%2Fpage%2F${n % 500}&ref=https%3A%2F%2Fnews.ycombinator.com%2F&uid=v${n % 20_000}` };
        },
      },
    ],
  });
}

async function main(): Promise<void> {
  const prefix = randomPrefix();
  const prefixes = [prefix];
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
  const dir = mkdtempSync(join(tmpdir(), 'rta-bench-'));
  const env = { REDIS_PREFIX: prefix, SITES: 'example.com', PORT: '0', HOST: '127.0.0.1', MAX_VALUES_PER_DIMENSION: '1000000', LOG_LEVEL: 'info' };
  const cli = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
  const bare = await startProcess([fileURLToPath(new URL('./bare-server.ts', import.meta.url))], {});
  const tracker = await startProcess([cli, 'tracker'], env);
  try {
    console.log(`# 1. GET /p.gif throughput: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per variant, autocannon in this process`);
    await load(bare.port, { duration: 2 }); // warm-up both
    await load(tracker.port, { duration: 2 });
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const baseline = await load(bare.port, { duration: DURATION_S });
      const withRedis = await load(tracker.port, { duration: DURATION_S });
      ratios.push(withRedis.requests.average / baseline.requests.average);
      console.log(
        `round ${round}: bare node:http GIF ${baseline.requests.average.toFixed(0).padStart(6)} req/s (p99 ${baseline.latency.p99} ms)` +
          `  tracker ${withRedis.requests.average.toFixed(0).padStart(6)} req/s (p99 ${withRedis.latency.p99} ms, errors ${withRedis.non2xx + withRedis.errors})` +
          `  ratio ${(ratios.at(-1)! * 100).toFixed(1)}%`,
      );
    }
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
    console.log(`median ratio tracker / bare: ${(median * 100).toFixed(1)}%   (bar: at least 60%)`);

    console.log(`\n# 2. flush one minute holding ${COUNTERS.toLocaleString('en')} distinct counters into DuckDB`);
    const flushPrefix = randomPrefix();
    prefixes.push(flushPrefix);
    const store = new AnalyticsStore(redis, { prefix: flushPrefix, maxValuesPerDimension: 1_000_000 });
    const minute = minuteOf(Date.now()) - 10 * 60_000;
    await fillLargeMinute(store, minute, COUNTERS);
    const duckdbPath = join(dir, 'bench.duckdb');
    const warehouse = createDuckDBWarehouse({ path: duckdbPath });
    await warehouse.migrate();
    const flushed = await flushClosedMinutes({ store, warehouse, logger: pino({ level: 'silent' }) }, {});
    await warehouse.close();
    console.log(`flushed ${flushed.counterRows} counter rows + ${flushed.visitorRows} sketches in ${flushed.durationMs} ms`);

    console.log('\n# 3. tracker p99 at a fixed 2,000 req/s, without and with that flush running (flusher in its own process)');
    const rate = 2_000;
    const seconds = Math.max(4, Math.ceil(flushed.durationMs / 1_000) + 3);
    const quiet = await load(tracker.port, { duration: seconds, overallRate: rate, connections: 16 });
    await fillLargeMinute(store, minute - 60_000, COUNTERS);
    const during = load(tracker.port, { duration: seconds, overallRate: rate, connections: 16 });
    const flusher = spawn(process.execPath, ['--import', 'tsx', cli, 'flush'], {
      cwd: ROOT,
      env: { ...process.env, ...env, REDIS_PREFIX: flushPrefix, DUCKDB_PATH: duckdbPath, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let flushOutput = '';
    flusher.stdout.on('data', (d: Buffer) => (flushOutput += d.toString()));
    await new Promise((resolve) => flusher.on('exit', resolve));
    const busy = await during;
    console.log(`without flush  p50 ${quiet.latency.p50} ms  p99 ${quiet.latency.p99} ms  max ${quiet.latency.max} ms`);
    console.log(`with flush     p50 ${busy.latency.p50} ms  p99 ${busy.latency.p99} ms  max ${busy.latency.max} ms  (${flushOutput.trim()})`);
    console.log(`p99 ratio with / without flush: ${(busy.latency.p99 / Math.max(quiet.latency.p99, 1)).toFixed(2)}`);
  } finally {
    bare.child.kill('SIGTERM');
    tracker.child.kill('SIGTERM');
    for (const p of prefixes) await deleteKeysOf(redis, p);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
