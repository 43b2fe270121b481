/**
 * Cardinality guard: a flood of distinct paths in one minute leaves at most
 * MAX_VALUES_PER_DIMENSION + 1 page values (the "(other)" row), and the totals still add up.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';
import { runNamedQuery } from '@rta/warehouse';
import { warehouseFixtures } from '../support/warehouses.js';
import { inParallel } from '../support/http-client.js';
import { flushOnce, startTestTracker } from '../support/pipeline.js';
import { USER_AGENTS } from '../support/traffic.js';

const SITE = 'example.com';
const T0 = Date.UTC(2026, 4, 1, 9, 0, 10);
const MAX = 10_000;
const PATHS = 50_000;

describe('cardinality guard', () => {
  const redis = testRedis();
  const prefix = randomPrefix();
  afterAll(async () => {
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  it(`${PATHS} distinct paths in one minute keep at most ${MAX} + 1 page values`, async () => {
    const fixture = await warehouseFixtures.duckdb!();
    const tracker = await startTestTracker({ prefix, sites: [SITE], now: T0, maxValuesPerDimension: MAX });
    const warehouse = fixture.create();
    try {
      const batches = Array.from({ length: PATHS / 100 }, (_, b) =>
        Array.from({ length: 100 }, (_, i) => ({ site: SITE, path: `/flood/${b * 100 + i}`, uid: `v${(b * 100 + i) % 3_000}` })),
      );
      await inParallel(batches, 16, async (batch) => {
        const res = await fetch(`${tracker.base}/e`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': USER_AGENTS.desktop },
          body: JSON.stringify(batch),
        });
        expect(res.status).toBe(202);
        expect(await res.json()).toMatchObject({ accepted: 100, rejected: 0 });
      });
      await warehouse.migrate();
      await flushOnce(prefix, warehouse, { now: T0 + 10 * 60_000 });
      const [pages] = await warehouse.query(
        "SELECT count(DISTINCT value) AS values, sum(count) AS n FROM event_counts WHERE dimension = 'page'",
      );
      expect(pages).toEqual({ values: MAX + 1, n: PATHS });
      const [other] = await warehouse.query("SELECT sum(count) AS n FROM event_counts WHERE dimension = 'page' AND value = '(other)'");
      expect(other).toEqual({ n: PATHS - MAX });
      const [total] = await warehouse.query("SELECT sum(count) AS n FROM event_counts WHERE dimension = 'total' AND event = 'pageview'");
      expect(total).toEqual({ n: PATHS });
      // 3,000 visitors (uids), each with one visit of several hits; entry pages pass the guard too.
      const visits = await warehouse.query(
        "SELECT event, dimension, count(DISTINCT value) AS values, sum(count) AS n FROM event_counts WHERE event IN ('visit', 'engaged_visit') GROUP BY event, dimension ORDER BY event, dimension",
      );
      expect(visits).toEqual([
        { event: 'engaged_visit', dimension: 'entry_page', values: 3_000, n: 3_000 },
        { event: 'engaged_visit', dimension: 'total', values: 1, n: 3_000 },
        { event: 'visit', dimension: 'entry_page', values: 3_000, n: 3_000 },
        { event: 'visit', dimension: 'total', values: 1, n: 3_000 },
      ]);
      // Page views' visitors are in their combinations' sketches (one per path here, as many as
      // the guard takes); past the guard, where pages are too, in the "(other)" page's.
      const sketches = await warehouse.query("SELECT dimension, count(*) AS n FROM unique_visitors WHERE dimension IN ('page', 'combination') GROUP BY dimension ORDER BY dimension");
      expect(sketches).toEqual([
        { dimension: 'combination', n: MAX },
        { dimension: 'page', n: 1 },
      ]);
      const [otherSketch] = await warehouse.query("SELECT value FROM unique_visitors WHERE dimension = 'page'");
      expect(otherSketch).toEqual({ value: '(other)' });
      // A page's visitors: its combinations' sketches merged with its own.
      const day = { site: SITE, from: new Date(T0 - 60_000), to: new Date(T0 + 60_000) };
      expect((await runNamedQuery(warehouse, 'visitors', { ...day, page: '/flood/7' })).map((r) => Number(r.visitors))).toEqual([1]);
    } finally {
      await tracker.close();
      await warehouse.close();
      await fixture.stop();
    }
  });
});
