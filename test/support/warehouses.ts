import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  createDuckDBWarehouse,
  createPostgresWarehouse,
  createRedshiftWarehouse,
  createSnowflakeWarehouse,
  type LoadHooks,
  type Warehouse,
} from '@rta/warehouse';
import { startRedshiftFixture } from './redshift-fixture.js';
import { startSnowflakeFixture } from './snowflake-fixture.js';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A warehouse for pipeline tests: the adapter for in-process use, and the environment a
 * separate flusher process needs to reach the same tables.
 */
export interface WarehouseFixture {
  kind: string;
  env: Record<string, string>;
  create(hooks?: LoadHooks): Warehouse;
  stop(): Promise<void>;
}

export type FixtureFactory = () => Promise<WarehouseFixture>;

export const warehouseFixtures: Record<string, FixtureFactory> = {
  async duckdb() {
    const dir = mkdtempSync(join(tmpdir(), 'rta-e2e-'));
    const path = join(dir, 'warehouse.duckdb');
    return {
      kind: 'duckdb',
      env: { WAREHOUSE: 'duckdb', DUCKDB_PATH: path },
      create: (hooks) => createDuckDBWarehouse({ path, hooks }),
      stop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  async postgres() {
    const schema = `e2e_${randomBytes(6).toString('hex')}`;
    return {
      kind: 'postgres',
      env: { WAREHOUSE: 'postgres', DATABASE_URL, DATABASE_SCHEMA: schema },
      create: (hooks) => createPostgresWarehouse({ connectionString: DATABASE_URL, schema, hooks }),
      async stop() {
        const client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    };
  },
  /** The real AWS SDK client against the Data API test server (PostgreSQL behind it). */
  async redshift() {
    const fixture = await startRedshiftFixture();
    return {
      kind: 'redshift',
      env: fixture.env,
      create: (hooks) => createRedshiftWarehouse({ ...fixture.options, hooks }),
      stop: () => fixture.stop(),
    };
  },
  /** The real snowflake-sdk driver against the Snowflake REST test server (DuckDB behind it). */
  async snowflake() {
    const fixture = await startSnowflakeFixture();
    return {
      kind: 'snowflake',
      env: fixture.env,
      create: (hooks) => createSnowflakeWarehouse({ ...fixture.options, hooks }),
      stop: () => fixture.stop(),
    };
  },
};

/** Sum of `count` per (minute, site, event, dimension, value), as `minuteISO|site|event|dimension|value`. */
export async function warehouseCounts(warehouse: Warehouse): Promise<Map<string, number>> {
  const rows = await warehouse.query(
    'SELECT minute, site, event, dimension, value, sum(count) AS n FROM event_counts GROUP BY minute, site, event, dimension, value',
  );
  const counts = new Map<string, number>();
  for (const row of rows) {
    const minute = (row.minute as Date).toISOString();
    counts.set(`${minute}|${row.site}|${row.event}|${row.dimension}|${row.value}`, Number(row.n));
  }
  return counts;
}
