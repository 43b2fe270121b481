import { afterAll, beforeAll } from 'vitest';
import type { Redis } from 'ioredis';
import type { Warehouse } from '@rta/warehouse';
import { deleteKeysOf, randomPrefix, testRedis } from './redis.js';
import { warehouseFixtures, type WarehouseFixture } from './warehouses.js';
import { startTestTracker, type TestTracker } from './pipeline.js';
import { startTestSite } from './browser.js';

export interface BrowserTestbed {
  redis: Redis;
  prefix: string;
  /** A migrated DuckDB warehouse the tracker's history reads (with `warehouse: true`). */
  warehouse: Warehouse;
  tracker: TestTracker;
  /** A site on localhost whose pages load the tracker's t.js. */
  site: Awaited<ReturnType<typeof startTestSite>>;
}

/**
 * What the browser tests run against, set up before a describe block's tests and torn down
 * after them: a tracker on the real clock with a dashboard token, a test site, and optionally a
 * DuckDB warehouse behind the dashboard's history.
 */
export function browserTestbed(options: { site: string; token: string; warehouse?: boolean; trustProxy?: boolean; goals?: string[] }): BrowserTestbed {
  const bed = { redis: testRedis(), prefix: randomPrefix() } as BrowserTestbed;
  let fixture: WarehouseFixture | undefined;
  beforeAll(async () => {
    if (options.warehouse) {
      fixture = await warehouseFixtures.duckdb!();
      bed.warehouse = fixture.create();
      await bed.warehouse.migrate();
    }
    bed.tracker = await startTestTracker({ prefix: bed.prefix, sites: [options.site], now: 'real', dashboardToken: options.token, warehouse: bed.warehouse, trustProxy: options.trustProxy, goals: options.goals });
    bed.site = await startTestSite(bed.tracker.base, options.site);
  });
  afterAll(async () => {
    await bed.site?.close();
    await bed.tracker?.close();
    await bed.warehouse?.close();
    await fixture?.stop();
    await deleteKeysOf(bed.redis, bed.prefix);
    bed.redis.disconnect();
  });
  return bed;
}
