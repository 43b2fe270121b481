export * from './warehouse.js';
export * from './errors.js';
export { compileNamedParams, normalizeValue, type PlaceholderStyle } from './named-params.js';
export { readSql, splitStatements, listQueries, type QueryPackEntry } from './sql-files.js';
export { runNamedQuery, type NamedQueryParams } from './query-pack.js';
export { createDuckDBWarehouse, duckdbDefaults, type DuckDBWarehouseOptions } from './duckdb/warehouse.js';
export { createPostgresWarehouse, postgresDefaults, type PostgresWarehouseOptions } from './postgres/warehouse.js';
export { createRedshiftWarehouse, redshiftDefaults, type RedshiftWarehouseOptions } from './redshift/warehouse.js';
export { createSnowflakeWarehouse, snowflakeDefaults, type SnowflakeWarehouseOptions } from './snowflake/warehouse.js';
