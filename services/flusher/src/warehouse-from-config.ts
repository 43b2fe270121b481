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
    case 'duckdb':
      return createDuckDBWarehouse({ path: config.path });
    case 'postgres':
      return createPostgresWarehouse({ connectionString: config.connectionString, schema: config.schema });
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
