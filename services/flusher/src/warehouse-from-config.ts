import type { WarehouseConfig } from '@rta/config';
import { createDuckDBWarehouse, createPostgresWarehouse, WarehouseError, type Warehouse } from '@rta/warehouse';

/** Builds the configured warehouse adapter. */
export function createWarehouseFromConfig(config: WarehouseConfig): Warehouse {
  switch (config.kind) {
    case 'duckdb':
      return createDuckDBWarehouse({ path: config.path });
    case 'postgres':
      return createPostgresWarehouse({ connectionString: config.connectionString, schema: config.schema });
    default:
      throw new WarehouseError('WAREHOUSE_CONFIG', `WAREHOUSE: ${config.kind} is not available in this build`);
  }
}
