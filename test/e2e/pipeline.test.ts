/**
 * The whole pipeline over real HTTP, real Redis and each warehouse: what the warehouse holds
 * after a flush equals, counter by counter, what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse } from '@rta/warehouse';
import { deleteKeysOf, keysOf, randomPrefix, testRedis } from '../support/redis.js';
import { warehouseFixtures, warehouseCounts, type WarehouseFixture } from '../support/warehouses.js';
import { expectedCounts, expectedVisitors, firstHitsFirst, generateTraffic, type Hit } from '../support/traffic.js';
import { inParallel, sendBeacon, sendPixel } from '../support/http-client.js';
import { flushOnce, startTestTracker, type TestTracker } from '../support/pipeline.js';

const SITES = ['example.com', 'shop.example.org', 'blog.example.net'];
const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const MINUTES = 4;
const minuteStart = (i: number) => T0 + i * 60_000;

describe.each(Object.keys(warehouseFixtures))('end to end on %s', (kind) => {
  let fixture: WarehouseFixture;
  let warehouse: Warehouse;
  let tracker: TestTracker;
  const prefix = randomPrefix();
  const redis = testRedis();

  beforeAll(async () => {
    fixture = await warehouseFixtures[kind]!();
    warehouse = fixture.create();
    await warehouse.migrate();
    tracker = await startTestTracker({ prefix, sites: SITES, now: T0 });
  });
  afterAll(async () => {
    await tracker?.close();
    await warehouse?.close();
    await fixture?.stop();
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  it('loads 10,000 events over 500 paths and 2,000 visitors exactly', async () => {
    const hits = generateTraffic({ events: 10_000, paths: 500, visitors: 2_000, sites: SITES, minutes: MINUTES });
    const started = new Set<string>();
    for (let m = 0; m < MINUTES; m++) {
      tracker.setNow(minuteStart(m) + 30_000);
      const minuteHits = hits.filter((h) => h.minuteIndex === m);
      const requests: Hit[][] = [
        ...minuteHits.filter((_, i) => i % 2 === 0).map((hit) => [hit]), // pixels
        ...groupByVisitor(minuteHits.filter((_, i) => i % 2 === 1), 20), // beacon batches
      ];
      // Visits: each visitor's first hit goes first, so its entry page is the expected one.
      for (const wave of firstHitsFirst(requests, (r) => r, started)) {
        await inParallel(wave, 32, async (request) => {
          if (request.length === 1 && minuteHits.indexOf(request[0]!) % 2 === 0) {
            expect((await sendPixel(tracker.base, request[0]!)).status).toBe(200);
          } else {
            expect((await sendBeacon(tracker.base, request)).status).toBe(202);
          }
        });
      }
    }

    const summary = await flushOnce(prefix, warehouse, { now: minuteStart(MINUTES) + 10 * 60_000 });
    expect(summary.events).toBe(10_000);
    expect(summary.minutes).toBe(MINUTES * SITES.length);

    const actual = await warehouseCounts(warehouse);
    const expected = expectedCounts(hits, minuteStart);
    expect(actual.size).toBe(expected.size);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));

    const visitors = await warehouse.query(
      "SELECT minute, site, visitors FROM unique_visitors WHERE dimension = 'total' AND value = ''",
    );
    const exact = expectedVisitors(hits, minuteStart);
    expect(visitors).toHaveLength(exact.size);
    for (const row of visitors) {
      const truth = exact.get(`${(row.minute as Date).toISOString()}|${row.site}`)!;
      expect(Math.abs(Number(row.visitors) - truth) / truth).toBeLessThanOrEqual(0.02);
    }

    // Redis keeps nothing of flushed minutes: only the day's salt, the last-flush record, the
    // index of sites, and the live state (sessions; the live view's minutes of 2026 already
    // expired), which expires.
    const live = SITES.map((site) => tracker.tracker.store.keys.live(site).base);
    const keys = await keysOf(redis, prefix);
    expect(keys.filter((k) => !live.some((base) => k.startsWith(base)))).toEqual([
      `${prefix}:last-flush`,
      `${prefix}:salt:2026-03-01`,
      `${prefix}:sites`,
    ]);
    for (const key of keys.filter((k) => live.some((base) => k.startsWith(base)))) expect(await redis.ttl(key)).toBeGreaterThan(0);
  });
});

function groupByVisitor(hits: readonly Hit[], size: number): Hit[][] {
  const byVisitor = new Map<string, Hit[]>();
  for (const hit of hits) {
    const list = byVisitor.get(hit.visitorKey + hit.userAgent) ?? [];
    list.push(hit);
    byVisitor.set(hit.visitorKey + hit.userAgent, list);
  }
  const batches: Hit[][] = [];
  for (const list of byVisitor.values()) {
    for (let i = 0; i < list.length; i += size) batches.push(list.slice(i, i + size));
  }
  return batches;
}
