/**
 * Slots holding live sites move between masters under traffic: a `redis-cli --cluster reshard`
 * and a slow migration one key at a time (MIGRATE with pauses). The track script declares every
 * key, so a migrating slot answers TRYAGAIN or ASK before the script runs: every hit is either
 * written whole (its live view and warehouse counts agree with the acknowledgement) or answered
 * 503 with nothing written.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createRedis } from '@rta/config';
import { AnalyticsStore } from '@rta/redis-store';
import { flushClosedMinutes } from '@rta/flusher';
import type { Warehouse } from '@rta/warehouse';
import { randomPrefix } from '../support/redis.js';
import { startRedisCluster, type RedisCluster, type RedisProcess } from '../support/redis-servers.js';
import { eventually } from '../support/wait.js';
import { warehouseFixtures, type WarehouseFixture } from '../support/warehouses.js';
import { silentLogger, startTestTracker, type TestTracker } from '../support/pipeline.js';
import { sitesOnEveryMaster } from '../support/cluster-sites.js';
import { doubledGenerations, pageviewsBySite, startHitLoop } from '../support/hit-loop.js';

const TOKEN = 'migration-test-dashboard-token';

async function nodeId(node: RedisProcess): Promise<string> {
  const client = node.client();
  try {
    return String(await client.call('CLUSTER', 'MYID'));
  } finally {
    client.disconnect();
  }
}

/** The slots a master serves, in order. */
async function slotsOf(node: RedisProcess): Promise<number[]> {
  const client = node.client();
  try {
    const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    const port = node.port;
    return ranges.filter(([, , m]) => Number(m[1]) === port).flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
  } finally {
    client.disconnect();
  }
}

/** Moves one slot from `source` to `target` one key at a time, pausing between keys. */
async function migrateSlowly(cluster: RedisCluster, slot: number, source: RedisProcess, target: RedisProcess): Promise<number> {
  const [sourceId, targetId] = [await nodeId(source), await nodeId(target)];
  const from = source.client();
  const to = target.client();
  let moved = 0;
  try {
    await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId);
    await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId);
    for (;;) {
      const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, 1)) as string[];
      if (keys.length === 0) break;
      await from.call('MIGRATE', '127.0.0.1', target.port, '', 0, 5_000, 'KEYS', keys[0]!);
      moved++;
      await sleep(15);
    }
    for (const node of await cluster.masters()) {
      const client = node.client();
      try {
        await client.call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
      } finally {
        client.disconnect();
      }
    }
  } finally {
    from.disconnect();
    to.disconnect();
  }
  return moved;
}

describe('slots of live sites migrating under traffic', () => {
  let cluster: RedisCluster;
  let fixture: WarehouseFixture;
  let warehouse: Warehouse;
  let tracker: TestTracker;
  let store: AnalyticsStore;
  let sites: string[];
  const prefix = randomPrefix();
  const closers: Array<() => unknown> = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 0 });
    sites = await sitesOnEveryMaster(cluster, prefix, 4);
    fixture = await warehouseFixtures.duckdb!();
    warehouse = fixture.create();
    await warehouse.migrate();
    const config = { redisUrl: cluster.seeds, redisCluster: true };
    const trackerRedis = createRedis(config, 'tracker');
    await connectRedis(trackerRedis, config);
    tracker = await startTestTracker({ prefix, sites, now: 'real', redis: trackerRedis, dashboardToken: TOKEN });
    const flusherRedis = createRedis(config, 'flusher');
    await connectRedis(flusherRedis, config);
    closers.push(() => flusherRedis.disconnect());
    store = new AnalyticsStore(flusherRedis, { prefix });
  }, 180_000);

  afterAll(async () => {
    await tracker?.close();
    for (const close of closers) await close();
    await warehouse?.close();
    await fixture?.stop();
    await cluster?.stop();
  });

  it('writes every hit whole or not at all, through a reshard and a slow key-by-key migration', async () => {
    const slotOf = async (site: string) => cluster.keySlot(`{${prefix}:${site}}`);
    // The reshard moves a master's first slots: the site closest to the start of its master's range.
    const offsets = await Promise.all(
      sites.map(async (site) => {
        const slot = await slotOf(site);
        const master = await cluster.masterOf(slot);
        return { site, slot, master, offset: (await slotsOf(master)).indexOf(slot) };
      }),
    );
    const resharded = offsets.sort((a, b) => a.offset - b.offset)[0]!;
    const slow = offsets.find((o) => o.master !== resharded.master)!;

    let flushing = true;
    const flusher = (async () => {
      while (flushing) {
        await flushClosedMinutes({ store, warehouse, logger: silentLogger }, { includeCurrentMinute: true, lockTtlMs: 10_000 }).catch(() => undefined);
        await sleep(1_000);
      }
    })();
    const hits = startHitLoop(tracker.base, sites, 8);
    await eventually('hits on every site', async () => (sites.every((site) => (hits.acknowledged.get(site) ?? 0) >= 30) ? true : undefined), 60_000);

    const targets = (await cluster.masters()).filter((m) => m !== resharded.master);
    const reshard = spawnSync(
      'redis-cli',
      [
        '--cluster', 'reshard', `127.0.0.1:${resharded.master.port}`,
        '--cluster-from', await nodeId(resharded.master),
        '--cluster-to', await nodeId(targets[0]!),
        '--cluster-slots', String(resharded.offset + 1),
        '--cluster-yes',
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    expect(reshard.status, reshard.stderr).toBe(0);
    expect(await cluster.masterOf(resharded.slot)).toBe(targets[0]);

    const slowTarget = (await cluster.masters()).find((m) => m !== slow.master)!;
    const moved = await migrateSlowly(cluster, slow.slot, slow.master, slowTarget);
    expect(moved).toBeGreaterThan(10);
    expect(await cluster.masterOf(slow.slot)).toBe(slowTarget);
    await cluster.waitHealthy();

    const afterMigration = new Map(hits.acknowledged);
    await eventually('both migrated sites to take writes on their new masters', async () =>
      [resharded.site, slow.site].every((site) => (hits.acknowledged.get(site) ?? 0) >= (afterMigration.get(site) ?? 0) + 20) ? true : undefined,
    60_000);
    await hits.stop();
    flushing = false;
    await flusher;

    // The live view, written in the same script call as the counters, counts exactly what was acknowledged.
    for (const site of sites) {
      const res = await fetch(`${tracker.base}/api/live?site=${site}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const live = (await res.json()) as { pageviewsLast30Minutes: number };
      expect(live.pageviewsLast30Minutes, `live view of ${site}`).toBe(hits.acknowledged.get(site) ?? 0);
    }
    await eventually(
      'every bucket to be flushed',
      async () => {
        await flushClosedMinutes({ store, warehouse, logger: silentLogger }, { includeCurrentMinute: true, waitForLocks: true, lockTtlMs: 10_000 });
        const left = await Promise.all((await store.pendingBuckets(Number.MAX_SAFE_INTEGER)).map((b) => store.bucketBacklog(b)));
        return left.every((b) => b.generations === 0) ? true : undefined;
      },
      120_000,
    );
    const loaded = await pageviewsBySite(warehouse);
    for (const site of sites) expect(loaded.get(site) ?? 0, `warehouse of ${site}`).toBe(hits.acknowledged.get(site) ?? 0);
    expect(await doubledGenerations(warehouse)).toEqual([]);
    // Only clean refusals: 503 (the pixel still answered), never a 500 or a dropped connection.
    expect([...hits.statuses.keys()].filter((status) => status !== '503')).toEqual([]);
    console.log(`migration: ${moved} keys moved one by one; refused hits ${JSON.stringify(Object.fromEntries(hits.statuses))}`);
  }, 600_000);
});
