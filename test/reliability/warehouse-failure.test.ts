/**
 * The warehouse fails mid-load on the first attempts, then recovers; and two flushes start at
 * the same moment. Totals stay exact.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AnalyticsStore, minuteOf, type EventWrite } from '@rta/redis-store';
import { deleteKeysOf, keysOf, randomPrefix, testRedis } from '../support/redis.js';
import { warehouseFixtures, warehouseCounts } from '../support/warehouses.js';
import { flushOnce } from '../support/pipeline.js';

function events(count: number, t0: number, minutes: number): EventWrite[] {
  return Array.from({ length: count }, (_, i) => ({
    site: 'example.com',
    event: 'pageview',
    path: `/p/${i % 50}`,
    referrer: '(direct)',
    device: 'desktop',
    visitorId: `u:${i % 300}`,
    receivedAt: t0 + (i % minutes) * 60_000 + 5_000,
  }));
}

async function totalsByMinute(query: (sql: string) => Promise<Array<Record<string, unknown>>>): Promise<Record<string, number>> {
  const rows = await query("SELECT minute, sum(count) AS n FROM event_counts WHERE dimension = 'total' GROUP BY minute");
  return Object.fromEntries(rows.map((r) => [(r.minute as Date).toISOString(), Number(r.n)]));
}

describe.each(Object.keys(warehouseFixtures))('warehouse failures on %s', (kind) => {
  const redis = testRedis();
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await deleteKeysOf(redis, p);
    redis.disconnect();
  });

  it('keeps the claimed minutes in Redis while loads fail, and loads them exactly once after', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const fixture = await warehouseFixtures[kind]!();
    let failures = 0;
    const warehouse = fixture.create({
      beforeCommit() {
        if (failures < 3) {
          failures++;
          throw new Error('injected: warehouse connection lost before commit');
        }
      },
    });
    try {
      await warehouse.migrate();
      const t0 = minuteOf(Date.now()) - 3_600_000;
      await new AnalyticsStore(redis, { prefix }).track(events(3_000, t0, 6));
      for (let attempt = 0; attempt < 3; attempt++) {
        await expect(flushOnce(prefix, warehouse, {})).rejects.toMatchObject({ code: 'WAREHOUSE_LOAD' });
      }
      expect(await warehouseCounts(warehouse)).toEqual(new Map());
      // Events that arrive during the outage for an already-claimed minute become a further batch.
      await new AnalyticsStore(redis, { prefix }).track(events(600, t0, 6));
      const summary = await flushOnce(prefix, warehouse, {});
      // 6 minutes, each claimed twice: the failed flushes claimed all six (they load together,
      // in one warehouse call), and the late events of each became a further generation.
      expect(summary.batches).toBe(12);
      const totals = await totalsByMinute((sql) => warehouse.query(sql));
      expect(Object.values(totals)).toEqual([600, 600, 600, 600, 600, 600]);
      expect(Object.keys(totals).sort()).toEqual(Array.from({ length: 6 }, (_, i) => new Date(t0 + i * 60_000).toISOString()));
      expect((await keysOf(redis, prefix)).filter((k) => k.includes(':n:'))).toEqual([]);
    } finally {
      await warehouse.close();
      await fixture.stop();
    }
  });

  it('two flushes started at the same moment load every batch once', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const fixture = await warehouseFixtures[kind]!();
    const a = fixture.create();
    const b = fixture.create();
    try {
      await a.migrate();
      const t0 = minuteOf(Date.now()) - 3_600_000;
      await new AnalyticsStore(redis, { prefix }).track(events(5_000, t0, 10));
      const [first, second] = await Promise.all([flushOnce(prefix, a, {}), flushOnce(prefix, b, {})]);
      // Whatever one skipped because the other held the lock, a later flush finds nothing left.
      const third = await flushOnce(prefix, a, {});
      expect(first.events + second.events + third.events).toBe(5_000);
      const totals = await totalsByMinute((sql) => a.query(sql));
      expect(Object.values(totals)).toEqual(Array(10).fill(500));
      const [ledger] = await a.query('SELECT count(*) AS n FROM load_batches');
      expect(ledger).toEqual({ n: 10 });
    } finally {
      await a.close();
      await b.close();
      await fixture.stop();
    }
  });
});
