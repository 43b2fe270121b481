/**
 * The long-running flusher (`pnpm cli flusher`, its own process, a flush every 2 s) while the
 * warehouse misbehaves, for each warehouse: a TCP fault proxy between the flusher and
 * PostgreSQL, the Redshift Data API test server and the Snowflake test server refuses
 * connections, resets one mid-load, delays everything, and goes silent (connections accepted,
 * nothing answered); DuckDB's file is held by another process. The flusher starts during the
 * first fault (its migration fails, it starts anyway). After each fault heals the
 * process is still running, every event written is in the warehouse exactly once, in the minute
 * it was written for, and the flush job recovered by itself within two scheduled runs. During
 * the silent partition the load fails within the statement timeout plus a margin, logged as one
 * JSON line with the batch id. Every line the flusher printed is JSON.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AnalyticsStore, minuteOf, type EventWrite } from '@rta/redis-store';
import type { Warehouse } from '@rta/warehouse';
import { deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';
import { warehouseFixtures, warehouseCounts, type WarehouseFixture } from '../support/warehouses.js';
import { addExpected } from '../support/expected-counts.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { holdDuckDBFile, type DuckDBFileHolder } from '../support/duckdb-lock.js';
import { metricValue, startFlusherProcess, type FlusherProcess } from '../support/flusher-process.js';
import { until } from '../support/wait.js';
import { exited, spawnCli } from '../support/child.js';

const SITES = ['example.com', 'shop.example.org'];
const STATEMENT_TIMEOUT_S = 3;
const CONNECT_TIMEOUT_S = 2;
const GRACE_S = 1;
/** Busy CI machines are slow; the partition must still end far sooner than a hang would. */
const MARGIN_S = 20;

type Fault = 'refuse' | 'reset' | 'delay' | 'blackhole' | 'file-lock';

/** Where the flusher's connections go through the proxy: the variable and how the proxy address replaces the warehouse's. */
const THROUGH_PROXY: Record<string, { variable: string; target: (env: Record<string, string>) => URL }> = {
  postgres: { variable: 'DATABASE_URL', target: (env) => new URL(env.DATABASE_URL!) },
  redshift: { variable: 'REDSHIFT_DATA_ENDPOINT', target: (env) => new URL(env.REDSHIFT_DATA_ENDPOINT!) },
  snowflake: { variable: 'SNOWFLAKE_ACCESS_URL', target: (env) => new URL(env.SNOWFLAKE_ACCESS_URL!) },
};

/** Text the client sends when a load is under way: the connection carrying it is reset. */
const MID_LOAD: Record<string, string> = {
  postgres: 'COPY event_counts',
  redshift: 'LOCK load_batches',
  snowflake: 'MERGE INTO load_batches',
};

const FAULTS: Record<string, Fault[]> = {
  postgres: ['refuse', 'reset', 'delay', 'blackhole'],
  redshift: ['refuse', 'reset', 'delay', 'blackhole'],
  snowflake: ['refuse', 'reset', 'delay', 'blackhole'],
  duckdb: ['file-lock'],
};

describe.each(Object.keys(FAULTS))('the flusher under warehouse faults: %s', (kind) => {
  const redis = testRedis({ autoPipelining: true });
  const prefix = randomPrefix();
  let fixture: WarehouseFixture | undefined;
  let proxy: FaultProxy | undefined;
  let direct: Warehouse | undefined;
  let flusher: FlusherProcess | undefined;
  afterAll(async () => {
    await flusher?.stop();
    await proxy?.close();
    await direct?.close();
    await fixture?.stop();
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  it(`survives ${FAULTS[kind]!.join(', ')} (starting during the first) and loads every event exactly once, in its minute, within two runs of each recovery`, async () => {
    fixture = await warehouseFixtures[kind]!();
    direct = fixture.create();
    await direct.migrate();
    const env: Record<string, string> = {
      ...fixture.env,
      REDIS_PREFIX: prefix,
      FLUSH_CRON: '*/2 * * * * *',
      FLUSH_GRACE_SECONDS: String(GRACE_S),
      FLUSH_LOCK_SECONDS: '10',
      FLUSH_JOB_TIMEOUT_SECONDS: '30',
      WAREHOUSE_CONNECT_TIMEOUT_SECONDS: String(CONNECT_TIMEOUT_S),
      WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: String(STATEMENT_TIMEOUT_S),
    };
    const route = THROUGH_PROXY[kind];
    if (route) {
      const target = route.target(fixture.env);
      proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
      target.host = proxy.address;
      env[route.variable] = route.variable === 'DATABASE_URL' ? target.toString() : target.origin;
    }
    // The first fault is already on when the flusher starts: it must start anyway.
    const [firstFault] = FAULTS[kind]!;
    let holder: DuckDBFileHolder | undefined;
    if (firstFault === 'refuse') await proxy!.refuse();
    if (firstFault === 'file-lock') holder = await holdDuckDBFile(env.DUCKDB_PATH!);
    flusher = await startFlusherProcess(env);
    expect(flusher.logged('warehouse migration failed; it runs again before each flush')).toHaveLength(1);

    const store = new AnalyticsStore(redis, { prefix });
    const expected = new Map<string, number>();
    const t0 = minuteOf(Date.now()) - 2 * 3_600_000;
    let written = 0;
    const track = async (phase: number) => {
      const events: EventWrite[] = Array.from({ length: 240 }, (_, i) => ({
        site: SITES[i % SITES.length]!,
        event: i % 10 === 0 ? 'signup' : 'pageview',
        path: `/p/${i % 17}`,
        referrer: i % 3 === 0 ? 'google.com' : '(direct)',
        device: i % 2 === 0 ? 'desktop' : 'mobile',
        visitorId: `u:${i % 50}`,
        receivedAt: t0 + (phase * 10 + (i % 3)) * 60_000 + 1_000 + i,
      }));
      for (const e of events) addExpected(expected, e);
      await store.track(events);
      written += events.length;
    };
    const loadedExactly = async () => {
      const actual = await warehouseCounts(direct!);
      return actual.size === expected.size && [...expected].every(([key, n]) => actual.get(key) === n);
    };
    const failures = () => flusher!.logged('flush failed; the next run retries');

    for (const [phase, fault] of FAULTS[kind]!.entries()) {
      const failedBefore = failures().length;
      const faultAt = Date.now();
      let resetFired: Promise<void> | undefined;
      switch (phase === 0 ? 'already-on' : fault) {
        case 'refuse':
          await proxy!.refuse();
          break;
        case 'blackhole':
          proxy!.blackhole();
          break;
        case 'delay':
          proxy!.delay(150);
          break;
        case 'file-lock':
          holder = await holdDuckDBFile(env.DUCKDB_PATH!);
          break;
      }
      if (fault === 'reset') resetFired = proxy!.resetWhen(MID_LOAD[kind]!);
      await track(phase);

      // The fault has done its damage: a flush failed on it, or the connection was reset mid-load.
      if (resetFired) await resetFired;
      else if (fault !== 'delay') await until(() => failures().length > failedBefore, { what: `a flush to fail on ${fault}`, timeoutMs: 90_000 });
      expect(flusher.child.exitCode, `${fault}: the flusher exited`).toBe(null);

      if (fault === 'blackhole') {
        // The silent partition: the load gave up within the timeout, and said so in one JSON line with the batch id.
        const line = failures()[failedBefore]!;
        expect(line).toMatchObject({ level: 50, code: 'WAREHOUSE_TIMEOUT', warehouse: kind, batchId: expect.any(String) });
        const [job] = (await flusher.jobsSince(faultAt)).filter((j) => j.state === 'failed');
        expect(job, 'the job that failed in the partition').toBeDefined();
        expect(job!.finishedOn - job!.processedOn).toBeLessThan((STATEMENT_TIMEOUT_S + CONNECT_TIMEOUT_S + GRACE_S + MARGIN_S) * 1_000);
      }

      const healedAt = Date.now();
      if (fault === 'delay') proxy!.delay(0);
      else if (fault === 'refuse' || fault === 'blackhole') await proxy!.pass();
      await holder?.release();
      holder = undefined;

      await until(loadedExactly, { what: `every event of ${fault} in the warehouse exactly once`, timeoutMs: 120_000 });
      // Recovery needed no manual step: one of the first two scheduled runs after the healing succeeded.
      let jobs = await flusher.jobsSince(healedAt);
      await until(async () => (jobs = await flusher!.jobsSince(healedAt)).some((j) => j.state === 'completed'), {
        what: 'a flush job to succeed after the recovery',
      });
      expect(jobs.slice(0, 2).map((j) => j.state), `${fault}: runs after recovery`).toContain('completed');
      expect(flusher.child.exitCode, `${fault}: the flusher exited`).toBe(null);
    }

    // No backlog left, the failures were counted, and every line printed was JSON. (A batch
    // committed by a request that outlived its timeout is loaded later as already_loaded, so
    // events_total can fall short of what was written; the warehouse comparison above is exact.)
    const metrics = await flusher.metrics();
    expect(metricValue(metrics, 'rta_flush_events_total')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'rta_flush_events_total')).toBeLessThanOrEqual(written);
    expect(metricValue(metrics, 'rta_flush_backlog_minutes')).toBe(0);
    const failed = metrics.split('\n').filter((l) => l.startsWith(`rta_flush_failures_total{warehouse="${kind}"`));
    expect(failed.length, metrics).toBeGreaterThan(0);
    expect(flusher.lines.filter((l) => l.json === undefined).map((l) => l.text)).toEqual([]);
    expect(await flusher.stop()).toBe(0);
  }, 600_000);
});

describe('a one-shot flush through a silent partition', () => {
  const redis = testRedis();
  const prefix = randomPrefix();
  afterAll(async () => {
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  it('`cli flush` gives up within the timeouts, prints one error line and exits 1; the next flush loads', async () => {
    const fixture = await warehouseFixtures.postgres!();
    const direct = fixture.create();
    const target = new URL(fixture.env.DATABASE_URL!);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
    try {
      await direct.migrate();
      target.host = proxy.address;
      const env = {
        ...fixture.env,
        DATABASE_URL: target.toString(),
        REDIS_PREFIX: prefix,
        WAREHOUSE_CONNECT_TIMEOUT_SECONDS: String(CONNECT_TIMEOUT_S),
        WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: String(STATEMENT_TIMEOUT_S),
      };
      const expected = new Map<string, number>();
      const events: EventWrite[] = Array.from({ length: 50 }, (_, i) => ({
        site: SITES[0]!,
        event: 'pageview',
        path: `/p/${i % 5}`,
        referrer: '(direct)',
        device: 'desktop',
        visitorId: `u:${i}`,
        receivedAt: minuteOf(Date.now()) - 3_600_000 + 1_000,
      }));
      for (const e of events) addExpected(expected, e);
      await new AnalyticsStore(redis, { prefix }).track(events);

      proxy.blackhole();
      const started = Date.now();
      const silent = await exited(spawnCli(['flush'], env));
      const lines = silent.output.trim().split('\n');
      // Migration, then the load: each waits at most the connect plus the statement timeout.
      expect(Date.now() - started).toBeLessThan((2 * (STATEMENT_TIMEOUT_S + CONNECT_TIMEOUT_S) + MARGIN_S) * 1_000);
      expect(silent.code).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: .*timed out/);

      await proxy.pass();
      const healed = await exited(spawnCli(['flush'], env));
      expect(healed.code, healed.output).toBe(0);
      expect(Object.fromEntries(await warehouseCounts(direct))).toEqual(Object.fromEntries(expected));
    } finally {
      await proxy.close();
      await direct.close();
      await fixture.stop();
    }
  }, 120_000);
});
