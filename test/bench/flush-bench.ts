/**
 * Sections 4 and 5 of `pnpm bench`: flushes of large minutes next to baselines of the same rows,
 * and the tracker's p99 at a fixed rate while such a flush runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Redis } from 'ioredis';
import { AnalyticsStore, DIMENSIONS, minuteOf, pageDigest, type BucketRef } from '@rta/redis-store';
import { ROOT } from '../support/child.js';
import { fillLargeMinute } from '../support/large-minute.js';
import { DATABASE_URL } from '../support/warehouses.js';
import { median, startNode } from './harness.js';
import { SCRIPTS } from './throughput.js';

interface Rows {
  counters: Array<[string, string, string, string, bigint]>;
  sketches: Array<[string, string, string, Buffer]>;
}

/** Reads the buckets' data as the flusher would, with nothing else: HSCAN pages and GETs. */
async function bareRead(store: AnalyticsStore, buckets: BucketRef[]): Promise<Rows> {
  const rows: Rows = { counters: [], sketches: [] };
  for (const bucket of buckets) {
    const keys = store.keys.bucket(bucket);
    const pages: string[] = [];
    for (const dimension of DIMENSIONS) {
      let cursor = '0';
      do {
        const [next, flat] = await store.redis.hscan(keys.counter(dimension, 0), cursor, 'COUNT', 1_000);
        for (let i = 0; i < flat.length; i += 2) {
          const [event, value] = flat[i]!.split('\x1f') as [string, string];
          if (!event) continue;
          rows.counters.push([bucket.site, event, dimension, value, BigInt(flat[i + 1]!)]);
          if (dimension === 'page') pages.push(value);
        }
        cursor = next;
      } while (cursor !== '0');
    }
    const unique = [...new Set(pages)];
    for (let i = 0; i < unique.length; i += 1_000) {
      const chunk = unique.slice(i, i + 1_000);
      const pipeline = store.redis.pipeline();
      for (const page of chunk) pipeline.getBuffer(keys.pageHll(pageDigest(page), 0));
      const replies = (await pipeline.exec())!;
      chunk.forEach((page, j) => rows.sketches.push([bucket.site, 'page', page, replies[j]![1] as Buffer]));
    }
  }
  return rows;
}

async function duckdbAppend(path: string, rows: Rows): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  await connection.run('CREATE TABLE counts (site VARCHAR, event VARCHAR, dimension VARCHAR, value VARCHAR, count BIGINT)');
  await connection.run('CREATE TABLE sketches (site VARCHAR, dimension VARCHAR, value VARCHAR, sketch BLOB)');
  const counts = await connection.createAppender('counts');
  for (const [site, event, dimension, value, count] of rows.counters) {
    counts.appendVarchar(site);
    counts.appendVarchar(event);
    counts.appendVarchar(dimension);
    counts.appendVarchar(value);
    counts.appendBigInt(count);
    counts.endRow();
  }
  counts.closeSync();
  const sketches = await connection.createAppender('sketches');
  for (const [site, dimension, value, sketch] of rows.sketches) {
    sketches.appendVarchar(site);
    sketches.appendVarchar(dimension);
    sketches.appendVarchar(value);
    sketches.appendBlob(sketch);
    sketches.endRow();
  }
  sketches.closeSync();
  connection.closeSync();
  instance.closeSync();
}

const csv = (text: string) => `"${text.replace(/"/g, '""')}"`;

async function postgresCopy(rows: Rows): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`CREATE TABLE ${schema}.counts (site text, event text, dimension text, value text, count bigint)`);
    await client.query(`CREATE TABLE ${schema}.sketches (site text, dimension text, value text, sketch bytea)`);
    const copy = async (sql: string, lines: Iterable<string>) => {
      const stream = client.query(copyFrom(sql));
      await new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
        let chunk = '';
        for (const line of lines) {
          chunk += line;
          if (chunk.length > 1 << 20) {
            stream.write(chunk);
            chunk = '';
          }
        }
        stream.end(chunk);
      });
    };
    await copy(`COPY ${schema}.counts FROM STDIN (FORMAT csv)`, (function* () {
      for (const [site, event, dimension, value, count] of rows.counters) yield `${csv(site)},${csv(event)},${csv(dimension)},${csv(value)},${count}\n`;
    })());
    await copy(`COPY ${schema}.sketches FROM STDIN (FORMAT csv)`, (function* () {
      for (const [site, dimension, value, sketch] of rows.sketches) yield `${csv(site)},${csv(dimension)},${csv(value)},\\x${sketch.toString('hex')}\n`;
    })());
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

/** Runs flush-once.ts in a process of its own and returns its JSON line. */
function flushProcess(env: Record<string, string>): Promise<{ durationMs: number; maxRssMb: number; counterRows: number; visitorRows: number }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./flush-once.ts', import.meta.url))], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`flush exited ${code}: ${out}`)))));
}

const timed = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

async function fill(store: AnalyticsStore, minute: number, sites: number, countersPerSite: number): Promise<BucketRef[]> {
  const buckets: BucketRef[] = [];
  for (let s = 0; s < sites; s++) {
    const site = sites === 1 ? 'example.com' : `s${s}.example.com`;
    await fillLargeMinute(store, minute, countersPerSite, site);
    buckets.push({ site, minute });
  }
  return buckets;
}

export async function runFlushBenchmarks(options: { redisUrl: string; redis: Redis; flush: boolean; fixedRate: boolean; trackerEnv: Record<string, string> }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rta-bench-flush-'));
  const minute = minuteOf(Date.now()) - 10 * 60_000;
  try {
    if (options.flush) {
      console.log('# 4. flush: large minutes next to baselines of the same rows');
      const cases = [
        { name: '100,000 counters + 25,000 sketches, DuckDB', sites: 1, counters: 100_000, warehouse: 'duckdb', bar: { ms: 1_500, ratio: 3 } },
        { name: '1,000,000 counters (100 sites × 10,000), DuckDB', sites: 100, counters: 10_000, warehouse: 'duckdb', bar: { ms: 10_000, ratio: Infinity } },
        { name: '1,000,000 counters (100 sites × 10,000), PostgreSQL', sites: 100, counters: 10_000, warehouse: 'postgres', bar: { ms: 10_000, ratio: Infinity } },
      ] as const;
      for (const c of cases) {
        const prefix = `f${randomBytes(4).toString('hex')}`;
        const store = new AnalyticsStore(options.redis, { prefix, maxValuesPerDimension: 1_000_000 });
        const buckets = await fill(store, minute, c.sites, c.counters);
        let rows: Rows = { counters: [], sketches: [] };
        const readMs = await timed(async () => (rows = await bareRead(store, buckets)));
        const appendMs =
          c.warehouse === 'duckdb' ? await timed(() => duckdbAppend(join(dir, `baseline-${prefix}.duckdb`), rows)) : await timed(() => postgresCopy(rows));
        const schema = `bench_${prefix}`;
        const env: Record<string, string> =
          c.warehouse === 'duckdb'
            ? { WAREHOUSE: 'duckdb', DUCKDB_PATH: join(dir, `flush-${prefix}.duckdb`) }
            : { WAREHOUSE: 'postgres', DATABASE_URL, DATABASE_SCHEMA: schema };
        const flushed = await flushProcess({ ...env, REDIS_URL: options.redisUrl, REDIS_PREFIX: prefix, MAX_VALUES_PER_DIMENSION: '1000000' });
        if (c.warehouse === 'postgres') {
          const client = new pg.Client({ connectionString: DATABASE_URL });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await client.end();
        }
        const baseline = readMs + appendMs;
        const ratio = flushed.durationMs / baseline;
        console.log(
          `  ${c.name}: flush ${flushed.durationMs} ms (${flushed.counterRows} counter rows, ${flushed.visitorRows} sketches), ` +
            `peak RSS ${flushed.maxRssMb.toFixed(0)} MB; baseline ${baseline.toFixed(0)} ms = bare read ${readMs.toFixed(0)} ms + ` +
            `${c.warehouse === 'duckdb' ? 'DuckDB appender' : 'PostgreSQL COPY'} ${appendMs.toFixed(0)} ms; ratio ${ratio.toFixed(2)}× ` +
            `(bar: ≤ ${c.bar.ms / 1_000} s${Number.isFinite(c.bar.ratio) ? ` and ≤ ${c.bar.ratio}×` : ''}${c.sites > 1 ? ', RSS ≤ 500 MB' : ''}: ` +
            `${flushed.durationMs <= c.bar.ms && ratio <= c.bar.ratio && (c.sites === 1 || flushed.maxRssMb <= 500) ? 'meets the bar' : 'BELOW THE BAR'})`,
        );
      }
      console.log('');
    }
    if (options.fixedRate) await fixedRate(options, dir, minute);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** p99 of the complete tracker at 2,000 req/s, without and with a 1M-counter flush into DuckDB in its own process. */
async function fixedRate(options: { redisUrl: string; redis: Redis; trackerEnv: Record<string, string> }, dir: string, minute: number): Promise<void> {
  console.log('# 5. tracker p99 at a fixed 2,000 req/s (autocannon in a process of its own), without and with a 1M-counter flush');
  const tracker = await startNode(SCRIPTS.tracker, { ...options.trackerEnv, REDIS_URL: options.redisUrl, REDIS_PREFIX: 'bench' });
  const prefix = `f${randomBytes(4).toString('hex')}`;
  try {
    const rate = (seconds: number) => fixedRateLoad(tracker.port, 2_000, seconds);
    await rate(3);
    const store = new AnalyticsStore(options.redis, { prefix, maxValuesPerDimension: 1_000_000 });
    const withouts: number[] = [];
    const withs: number[] = [];
    for (let round = 0; round < 2; round++) {
      await fill(store, minute - round * 60_000, 100, 10_000);
      const quiet = await rate(8);
      const during = rate(8);
      const flushed = flushProcess({ WAREHOUSE: 'duckdb', DUCKDB_PATH: join(dir, `p99-${prefix}.duckdb`), REDIS_URL: options.redisUrl, REDIS_PREFIX: prefix, MAX_VALUES_PER_DIMENSION: '1000000' });
      const [busy, summary] = await Promise.all([during, flushed]);
      withouts.push(quiet.p99);
      withs.push(busy.p99);
      console.log(`  round ${round + 1}: without flush p50 ${quiet.p50} ms p99 ${quiet.p99} ms; with flush (${summary.durationMs} ms of it) p50 ${busy.p50} ms p99 ${busy.p99} ms`);
    }
    const ratio = median(withs) / Math.max(median(withouts), 1);
    console.log(`  p99 with / without: ${ratio.toFixed(2)}× (bar ≤ 2×: ${ratio <= 2 ? 'meets the bar' : 'BELOW THE BAR'})\n`);
  } finally {
    await tracker.stop();
  }
}

function fixedRateLoad(port: number, rate: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixed-rate.ts', import.meta.url)), String(port), String(rate), String(seconds)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`fixed-rate load exited ${code}`)))));
}
