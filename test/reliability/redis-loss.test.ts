/**
 * Redis losing writes, on a redis-server of the test's own:
 * - restarted empty under a running pipeline (`pnpm start`: tracker, BullMQ flusher): what the
 *   tracker acknowledges afterwards reaches the warehouse with nothing restarted (the index of
 *   sites and the flush schedule heal themselves);
 * - rolled back past a claim (its AOF directory restored from a copy taken before a flush): no
 *   batch is loaded twice, and what is lost is what was written after the copy.
 */
import { rmSync, renameSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AnalyticsStore, minuteOf, type EventWrite } from '@rta/redis-store';
import { copyDataDir, freePort, startRedisServer } from '../support/redis-servers.js';
import { eventually } from '../support/wait.js';
import { warehouseFixtures, warehouseCounts } from '../support/warehouses.js';
import { exited, spawnCli } from '../support/child.js';
import { flushClosedMinutes } from '@rta/flusher';
import { silentLogger } from '../support/pipeline.js';
import { USER_AGENTS } from '../support/traffic.js';

const SITES = ['example.com', 'shop.example.org'];

async function pageviewsIn(warehouse: { query(sql: string): Promise<Array<Record<string, unknown>>> }): Promise<number> {
  const rows = await warehouse.query("SELECT sum(count) AS n FROM event_counts WHERE event = 'pageview' AND dimension = 'total'");
  return Number(rows[0]?.n ?? 0);
}

describe('Redis restarted empty under a running pipeline', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('loads what the tracker acknowledges after the restart, with nothing restarted', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.remove(), () => redis.stop('SIGKILL'));
    const fixture = await warehouseFixtures.duckdb!();
    cleanups.push(() => fixture.stop());
    const port = await freePort();
    const pipeline = spawnCli(['start'], {
      ...fixture.env,
      REDIS_URL: redis.url,
      SITES: SITES.join(','),
      PORT: String(port),
      HOST: '127.0.0.1',
      FLUSH_CRON: '*/2 * * * * *',
      FLUSH_GRACE_SECONDS: '0',
    });
    const done = exited(pipeline);
    cleanups.push(async () => {
      pipeline.kill('SIGTERM');
      await done;
    });
    const base = `http://127.0.0.1:${port}`;
    await eventually('the tracker to answer', async () => ((await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined), 120_000);

    let acknowledged = 0;
    let n = 0;
    const hit = async () => {
      const site = SITES[n % SITES.length]!;
      const res = await fetch(`${base}/p.gif?site=${site}&path=/p/${n}&uid=v${n++}`, { headers: { 'user-agent': USER_AGENTS.desktop } }).catch(() => undefined);
      if (res?.status === 200) acknowledged++;
      await res?.arrayBuffer();
      return res?.status;
    };
    for (let i = 0; i < 40; i++) expect(await hit()).toBe(200);

    // Redis restarts with nothing: the index of sites, the flush schedule and the pending buckets are gone.
    await redis.stop('SIGKILL');
    await redis.start();
    await eventually('the tracker to write again', async () => ((await hit()) === 200 ? true : undefined), 60_000);
    for (let i = 0; i < 40; i++) await hit();
    expect(acknowledged).toBeGreaterThanOrEqual(81);

    // Events acknowledged before the restart were lost with Redis unless flushed already: the
    // warehouse must reach at least everything acknowledged after it, and never more than sent.
    const afterRestart = acknowledged - 40;
    const warehouse = fixture.create();
    try {
      const loaded = await eventually(
        'the events acknowledged after the restart to be loaded',
        async () => {
          const total = await pageviewsIn(warehouse).catch(() => 0);
          const late = await warehouse.query("SELECT sum(count) AS n FROM event_counts WHERE event = 'pageview' AND dimension = 'page' AND CAST(substr(value, 4) AS INTEGER) >= 40");
          return Number(late[0]?.n ?? 0) === afterRestart ? total : undefined;
        },
        180_000,
      );
      expect(loaded).toBeLessThanOrEqual(acknowledged);
    } finally {
      await warehouse.close();
    }
  }, 420_000);
});

describe('Redis rolled back past a claim', () => {
  it('loads no batch twice, and loses only what was written after the restored copy', async () => {
    const server = await startRedisServer({ aof: 'always' });
    const fixture = await warehouseFixtures.duckdb!();
    const warehouse = fixture.create();
    await warehouse.migrate();
    let redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const t0 = minuteOf(Date.now()) - 60 * 60_000;
      const events = (minute: number, count: number): EventWrite[] =>
        Array.from({ length: count }, (_, i) => ({
          site: SITES[i % 2]!,
          event: 'pageview',
          path: `/m${minute}/${i % 7}`,
          referrer: '(direct)',
          device: 'desktop',
          visitorId: `u:${i}`,
          receivedAt: t0 + minute * 60_000 + 1_000,
        }));
      const flush = async () => flushClosedMinutes({ store: new AnalyticsStore(redis), warehouse, logger: silentLogger }, { claimReplicas: 0 });

      // Minute 0, acknowledged (appendfsync always: in the AOF when acknowledged), then the copy.
      await new AnalyticsStore(redis).track(events(0, 115));
      const copy = copyDataDir(server.dir);
      const first = await flush();
      expect(first.events).toBe(115);
      // Minute 1 after the copy: what the rollback loses.
      await new AnalyticsStore(redis).track(events(1, 30));

      // Restore the copy: minute 0 is unclaimed again, as if its claim had never happened.
      redis.disconnect();
      await server.stop('SIGKILL');
      rmSync(server.dir, { recursive: true, force: true });
      renameSync(copy, server.dir);
      await server.start();
      redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
      expect(await new AnalyticsStore(redis).pendingBuckets(Date.now())).toHaveLength(2);

      await new AnalyticsStore(redis).track(events(2, 20));
      const second = await flush();
      // Minute 0's claims get the batch ids they had: the ledger has them, nothing loads twice.
      expect(second.alreadyLoaded).toBe(2);
      expect(second.events).toBe(20);

      const counts = await warehouseCounts(warehouse);
      const total = (minute: number) =>
        SITES.reduce((sum, site) => sum + (counts.get(`${new Date(t0 + minute * 60_000).toISOString()}|${site}|pageview|total|`) ?? 0), 0);
      expect([total(0), total(1), total(2)]).toEqual([115, 0, 20]);
      expect(await pageviewsIn(warehouse)).toBe(135);
    } finally {
      redis.disconnect();
      await warehouse.close();
      await fixture.stop();
      await server.stop('SIGKILL');
      server.remove();
    }
  }, 180_000);
});
