/**
 * `pnpm bench`: the hot path and the flush, each next to a baseline measured in the same run.
 *
 * 1. The load generator is not the limit: the bare node:http GIF server under wrk with one
 *    thread and 64 connections, then two threads and 128 connections; the bare server must
 *    saturate its core and the second figure must not be higher.
 * 2. GET /p.gif throughput, alternating rounds, medians: the bare server; a naive tracker (one
 *    awaited MULTI INCR + PFADD per request, the seed's way); our tracker with counters only;
 *    our tracker complete (sessions and the live view), in one process and in two (as
 *    TRACKER_WORKERS=2 runs it). Per variant: req/s, p50/p99, the
 *    process's CPU per request, Redis's CPU and commands per event.
 * 3. Redis Cluster: our tracker on a 3-master cluster next to standalone, and with
 *    REDIS_WAIT_REPLICAS=1; the ceiling of one site (one slot, one Redis core).
 * 4. Flush: one minute of 100,000 counters + 25,000 sketches into DuckDB, and one minute of
 *    1,000,000 counters (100 sites × 10,000 values) into DuckDB and PostgreSQL, each as a ratio
 *    to a baseline of the same rows (DuckDB's appender, PostgreSQL's COPY, a bare HSCAN read);
 *    the flusher's peak RSS.
 * 5. The tracker's p99 at a fixed rate without and with that 1M-counter flush running.
 *
 * Starts its own redis-server processes (standalone and a cluster) on free ports; needs
 * PostgreSQL at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) for section 4
 * and Debian's wrk (installed when missing). BENCH_SECONDS (default 8) and BENCH_ROUNDS
 * (default 3) set the rounds; BENCH_ONLY=1,2,… runs some sections.
 */
import { ensureWrk, median } from './harness.js';
import { SCRIPTS, compare, line, measure, medians, type Variant } from './throughput.js';
import { startNode } from './harness.js';
import { startRedisCluster, startRedisServer } from '../support/redis-servers.js';
import { Redis } from 'ioredis';
import { runFlushBenchmarks } from './flush-bench.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ONLY = new Set((process.env.BENCH_ONLY ?? '1,2,3,4,5').split(',').map(Number));
// wrk's requests carry a public client address in X-Forwarded-For (see harness.ts), so our
// tracker looks a country up per hit as it does behind a real proxy.
const TRACKER_ENV = { SITES: 'example.com', MAX_VALUES_PER_DIMENSION: '10000', LOG_LEVEL: 'warn', TRUST_PROXY: 'loopback' };

async function main(): Promise<void> {
  ensureWrk();
  console.log(`pnpm bench on ${(await import('node:os')).cpus().length} cores, Node ${process.version}; ${ROUNDS} rounds of ${SECONDS} s per variant, medians\n`);
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  try {
    if (ONLY.has(1)) await generatorCheck();
    if (ONLY.has(2)) await standalone(redisServer.url, redis);
    if (ONLY.has(3)) await cluster(redisServer.url, redis);
    if (ONLY.has(4) || ONLY.has(5)) await runFlushBenchmarks({ redisUrl: redisServer.url, redis, fixedRate: ONLY.has(5), flush: ONLY.has(4), trackerEnv: TRACKER_ENV });
  } finally {
    redis.disconnect();
    await redisServer.stop();
    redisServer.remove();
  }
}

async function generatorCheck(): Promise<void> {
  console.log('# 1. the load generator is not the limit (bare node:http GIF server)');
  const bare: Variant = { name: 'bare', script: SCRIPTS.bare, env: {}, redis: [] };
  const process = await startNode(bare.script, bare.env);
  try {
    const one: number[] = [];
    const two: number[] = [];
    const cores: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const a = await measure(bare, process, { seconds: SECONDS, threads: 1, connections: 64 });
      const b = await measure(bare, process, { seconds: SECONDS, threads: 2, connections: 128 });
      one.push(a.rps);
      two.push(b.rps);
      cores.push(a.trackerCores);
      console.log(`  wrk -t1 -c64  ${line(a)}\n  wrk -t2 -c128 ${line(b)}`);
    }
    const ratio = median(two) / median(one);
    console.log(
      `  bare server: ${median(one).toFixed(0)} req/s at ${median(cores).toFixed(2)} of a core with wrk -t1 -c64; ` +
        `${median(two).toFixed(0)} req/s with -t2 -c128 (×${ratio.toFixed(2)}): ` +
        (median(cores) >= 0.9 && ratio <= 1.05 ? 'the server is the limit, not wrk\n' : 'WARNING: wrk may be the limit\n'),
    );
  } finally {
    await process.stop();
  }
}

async function standalone(url: string, redis: Redis): Promise<void> {
  console.log('# 2. GET /p.gif: bare server, naive tracker, our tracker counters only, our tracker complete (standalone Redis)');
  const env = { ...TRACKER_ENV, REDIS_URL: url, REDIS_PREFIX: 'bench' };
  const variants: Variant[] = [
    { name: 'bare node:http GIF server', script: SCRIPTS.bare, env: {}, redis: [] },
    { name: 'naive (MULTI INCR+PFADD per hit)', script: SCRIPTS.naive, env: { REDIS_URL: url }, redis: [redis] },
    { name: 'ours, counters only', script: SCRIPTS.tracker, env: { ...env, BENCH_LIVE: '0' }, redis: [redis] },
    { name: 'ours, complete (sessions, live)', script: SCRIPTS.tracker, env, redis: [redis] },
    { name: 'ours, complete, 2 worker processes', script: SCRIPTS.tracker, env: { ...env, BENCH_WORKERS: '2' }, redis: [redis] },
  ];
  const results = await compare(variants, { rounds: ROUNDS, seconds: SECONDS });
  const all = variants.map((v) => medians(results.get(v.name)!));
  const [bare, naive, counters, complete, workers] = all;
  console.log('  medians:');
  variants.forEach((v, i) => console.log(`    ${v.name.padEnd(34)} ${line(all[i]!)}`));
  const verdict = (ok: boolean) => (ok ? 'meets the bar' : 'BELOW THE BAR');
  console.log(`  complete / bare:  ${(complete!.rps / bare!.rps).toFixed(2)}×  (bar ≥ 0.6×: ${verdict(complete!.rps / bare!.rps >= 0.6)})`);
  console.log(`  complete / naive: ${(complete!.rps / naive!.rps).toFixed(2)}×  (bar ≥ 1.7×: ${verdict(complete!.rps / naive!.rps >= 1.7)})`);
  console.log(`  counters / bare:  ${(counters!.rps / bare!.rps).toFixed(2)}×`);
  console.log(`  2 workers / 1:    ${(workers!.rps / complete!.rps).toFixed(2)}× (wrk and Redis share these cores)`);
  console.log(`  Redis CPU per event, complete: ${complete!.redisCpuUsPerEvent.toFixed(1)} µs  (bar ≤ 12: ${verdict(complete!.redisCpuUsPerEvent <= 12)})`);
  const cpuRatio = complete!.trackerCpuUsPerRequest / bare!.trackerCpuUsPerRequest;
  console.log(`  tracker CPU per request / bare server's: ${cpuRatio.toFixed(2)}×  (bar ≤ 1.4×: ${verdict(cpuRatio <= 1.4)})\n`);
}

async function cluster(standaloneUrl: string, redis: Redis): Promise<void> {
  console.log('# 3. Redis Cluster (3 masters + 3 replicas on this machine): our tracker, complete');
  const redisCluster = await startRedisCluster({ masters: 3, replicas: 1 });
  const clusterNodes = await redisCluster.masters();
  const clients = clusterNodes.map((n) => n.client());
  try {
    const standaloneEnv = { ...TRACKER_ENV, REDIS_URL: standaloneUrl, REDIS_PREFIX: 'bench' };
    const clusterEnv = { ...TRACKER_ENV, REDIS_URL: redisCluster.seeds, REDIS_CLUSTER: 'true', REDIS_PREFIX: 'bench' };
    const variants: Variant[] = [
      { name: 'standalone', script: SCRIPTS.tracker, env: standaloneEnv, redis: [redis] },
      { name: 'cluster', script: SCRIPTS.tracker, env: clusterEnv, redis: clients },
      { name: 'cluster, REDIS_WAIT_REPLICAS=1', script: SCRIPTS.tracker, env: { ...clusterEnv, REDIS_WAIT_REPLICAS: '1' }, redis: clients },
    ];
    const results = await compare(variants, { rounds: ROUNDS, seconds: SECONDS });
    const [single, clustered, waiting] = variants.map((v) => medians(results.get(v.name)!));
    console.log('  medians:');
    variants.forEach((v, i) => console.log(`    ${v.name.padEnd(34)} ${line([single, clustered, waiting][i]!)}`));
    console.log(`  cluster / standalone: ${(clustered!.rps / single!.rps).toFixed(2)}×; with WAIT 1: ${(waiting!.rps / single!.rps).toFixed(2)}×`);
    // One site is one slot: its events are bound by one Redis core.
    const ceiling = 1e6 / clustered!.redisCpuUsPerEvent;
    console.log(`  one site's ceiling: one Redis core at ${clustered!.redisCpuUsPerEvent.toFixed(1)} µs per event ≈ ${Math.round(ceiling).toLocaleString('en')} events/s\n`);
  } finally {
    for (const client of clients) client.disconnect();
    await redisCluster.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
