/**
 * Countries, regions and cities from the client address, through the real tracker process
 * (`pnpm cli tracker` with GEOIP_DATABASE), Redis, the flusher and the warehouse's query pack:
 * exact counts per place, and nothing of the address stored anywhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDuckDBWarehouse, runNamedQuery } from '@rta/warehouse';
import { exited, spawnCli } from '../support/child.js';
import { writeMmdb } from '../support/mmdb-writer.js';
import { flushOnce } from '../support/pipeline.js';
import { deleteKeysOf, randomPrefix, scanKeys, testRedis } from '../support/redis.js';
import { USER_AGENTS } from '../support/traffic.js';
import { until } from '../support/wait.js';

const SITE = 'geo.example';
const dir = mkdtempSync(join(tmpdir(), 'rta-geo-e2e-'));
const redis = testRedis();
const prefix = randomPrefix();

afterAll(async () => {
  await deleteKeysOf(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `pnpm cli tracker` and resolves with its port and JSON log lines once it listens. */
async function startTracker(env: Record<string, string>) {
  const child = spawnCli(['tracker'], { SITES: SITE, REDIS_PREFIX: prefix, HOST: '127.0.0.1', PORT: '0', TRUST_PROXY: 'loopback', LOG_LEVEL: 'info', ...env });
  const exit = exited(child);
  const lines: Array<Record<string, unknown>> = [];
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (pending + chunk.toString()).split('\n');
    pending = parts.pop()!;
    for (const part of parts) if (part) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  await until(() => child.exitCode !== null || lines.some((l) => l.msg === 'tracker listening'), { what: 'the tracker to listen' });
  const listening = lines.find((l) => l.msg === 'tracker listening');
  if (!listening) throw new Error(`the tracker exited: ${(await exit).output}`);
  return {
    port: listening.port as number,
    lines,
    async stop() {
      child.kill('SIGTERM');
      return exit;
    },
  };
}

describe('GEOIP_DATABASE', () => {
  it('fills country, region and city from a City file, exactly, and stores no address', async () => {
    const database = join(dir, 'GeoLite2-City-test.mmdb');
    writeFileSync(
      database,
      writeMmdb({
        databaseType: 'GeoLite2-City',
        networks: [
          { network: '81.2.69.0/24', record: { country: { iso_code: 'GB' }, subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }], city: { names: { en: 'London' } } } },
          { network: '89.160.20.0/24', record: { country: { iso_code: 'SE' }, subdivisions: [{ names: { en: 'Östergötland County' } }], city: { names: { en: 'Linköping' } } } },
          { network: '216.160.83.0/24', record: { country: { iso_code: 'US' }, subdivisions: [{ names: { en: 'Washington' } }], city: { names: { en: 'Milton' } } } },
        ],
      }),
    );
    const tracker = await startTracker({ GEOIP_DATABASE: database });
    const loaded = tracker.lines.find((l) => l.msg === 'geolocation database loaded');
    expect(loaded?.geoDatabase).toMatchObject({ path: database, type: 'GeoLite2-City', hasCities: true });

    // Per address: page views sent. 10.0.0.7 is in no database: country (unknown), no region or city.
    const sent: Array<[string, number]> = [['81.2.69.142', 5], ['81.2.69.160', 2], ['89.160.20.112', 3], ['216.160.83.56', 4], ['10.0.0.7', 1]];
    const minute = Date.now();
    try {
      for (const [ip, n] of sent) {
        for (let i = 0; i < n; i++) {
          const res = await fetch(`http://127.0.0.1:${tracker.port}/p.gif?site=${SITE}&path=/p${i}`, { headers: { 'user-agent': USER_AGENTS.desktop, 'x-forwarded-for': ip } });
          expect(res.status).toBe(200);
          await res.arrayBuffer();
        }
      }
    } finally {
      expect((await tracker.stop()).code).toBe(0);
    }

    // Redis holds the places, never the addresses.
    for (const key of await scanKeys(redis, `*${prefix}*`)) {
      const type = await redis.type(key);
      const dump = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'zset' ? JSON.stringify(await redis.zrange(key, '0', '-1')) : type === 'string' ? String(await redis.get(key)) : '';
      expect(dump, key).not.toMatch(/81\.2\.69|89\.160|216\.160|10\.0\.0\.7/);
    }

    const warehouse = createDuckDBWarehouse({ path: join(dir, 'warehouse.duckdb') });
    try {
      await warehouse.migrate();
      const summary = await flushOnce(prefix, warehouse, { now: minute + 3 * 60_000 });
      expect(summary.events).toBe(15);
      const range = { site: SITE, from: new Date(minute - 3_600_000), to: new Date(minute + 3_600_000), limit: 10 };
      const top = async (name: string) => (await runNamedQuery(warehouse, name, range)).map((r) => Object.values(r).map(String).join(' '));
      expect(await top('top-countries')).toEqual(['GB 7', 'US 4', 'SE 3', '(unknown) 1']);
      expect(await top('top-regions')).toEqual(['England, GB 7', 'Washington, US 4', 'Östergötland County, SE 3']);
      expect(await top('top-cities')).toEqual(['London, England, GB 7', 'Milton, Washington, US 4', 'Linköping, Östergötland County, SE 3']);
      expect(await top('top-browsers')).toEqual(['Chrome 124 15']);
      expect(await top('top-os')).toEqual(['Windows 15']);
      const values = await warehouse.query('SELECT DISTINCT value FROM event_counts');
      expect(JSON.stringify(values)).not.toMatch(/81\.2\.69|89\.160|216\.160|10\.0\.0\.7/);
    } finally {
      await warehouse.close();
    }
  });

  it('a file that is missing or not a MaxMind DB stops the tracker with one line naming GEOIP_DATABASE', async () => {
    const missing = join(dir, 'missing.mmdb');
    expect(await exited(spawnCli(['tracker'], { SITES: SITE, REDIS_PREFIX: prefix, PORT: '0', GEOIP_DATABASE: missing }))).toMatchObject({
      code: 1,
      output: `error: GEOIP_DATABASE: cannot read ${missing} (ENOENT)\n`,
    });
    const junk = join(dir, 'junk.mmdb');
    writeFileSync(junk, 'this is not a database');
    const result = await exited(spawnCli(['tracker'], { SITES: SITE, REDIS_PREFIX: prefix, PORT: '0', GEOIP_DATABASE: junk }));
    expect(result.code).toBe(1);
    expect(result.output).toMatch(new RegExp(`^error: GEOIP_DATABASE: ${junk} is not a MaxMind DB \\(\\.mmdb\\) file \\(.+\\)\\n$`));
  });
});
