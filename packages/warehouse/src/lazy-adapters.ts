import type { Dialect, Warehouse } from './warehouse.js';
import { resolveRedshiftOptions, type RedshiftWarehouseOptions } from './redshift/options.js';
import { resolveSnowflakeOptions, type SnowflakeWarehouseOptions } from './snowflake/options.js';

/**
 * The Redshift and Snowflake adapters load their SDKs (large, and the AWS SDK warns on Node 20)
 * only when a warehouse of that kind is first used, so the tracker, the CLI and DuckDB or
 * PostgreSQL users never pay for them. Settings are still checked at once, naming the variable.
 */
export function createRedshiftWarehouse(options: RedshiftWarehouseOptions): Warehouse {
  resolveRedshiftOptions(options);
  return deferred('redshift', async () => (await import('./redshift/warehouse.js')).createRedshiftWarehouse(options));
}

export function createSnowflakeWarehouse(options: SnowflakeWarehouseOptions): Warehouse {
  resolveSnowflakeOptions(options);
  return deferred('snowflake', async () => (await import('./snowflake/warehouse.js')).createSnowflakeWarehouse(options));
}

function deferred(dialect: Dialect, create: () => Promise<Warehouse>): Warehouse {
  let real: Promise<Warehouse> | undefined;
  const get = () => (real ??= create());
  return {
    dialect,
    migrate: async () => (await get()).migrate(),
    load: async (batch) => (await get()).load(batch),
    loadBatches: async (batches) => (await get()).loadBatches(batches),
    query: async (sql, params) => (await get()).query(sql, params),
    execute: async (sql, params) => (await get()).execute(sql, params),
    close: async () => {
      if (real) await (await real).close();
    },
  };
}
