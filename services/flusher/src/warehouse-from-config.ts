import type { WarehouseConfig } from '@rta/config';
import {
  createDuckDBWarehouse,
  createPostgresWarehouse,
  createRedshiftWarehouse,
  createSnowflakeWarehouse,
  type Warehouse,
} from '@rta/warehouse';

/** Builds the configured warehouse adapter; adapters check their settings here, naming the variable. */
export function createWarehouseFromConfig(config: WarehouseConfig): Warehouse {
  switch (config.kind) {
    case 'duckdb': {
      const { kind: _, idleTimeoutMs: __, ...options } = config; // DuckDB keeps no connection open
      return createDuckDBWarehouse(options);
    }
    case 'postgres': {
      const { kind: _, ...options } = config;
      return createPostgresWarehouse(options);
    }
    case 'redshift': {
      const { kind: _, ...options } = config;
      return createRedshiftWarehouse(options);
    }
    case 'snowflake': {
      const { kind: _, ...options } = config;
      return createSnowflakeWarehouse(options);
    }
  }
}
