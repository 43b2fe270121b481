export * from './warehouse.js';
export * from './errors.js';
export { timeoutDefaults, withDeadline, type WarehouseTimeouts } from './timeouts.js';
export { compileNamedParams, normalizeValue, type PlaceholderStyle } from './named-params.js';
export { readSql, splitStatements, listQueries, type QueryPackEntry } from './sql-files.js';
export { OUTPUT_FORMATS, formatRows, formatTime, isOutputFormat, type OutputFormat } from './query-output.js';
export { VISITOR_PERIODS, filterError, filtersPageAlone, parseFilters, runNamedQuery, unsketchedMinutes, type NamedQueryParams, type VisitorPeriod } from './query-pack.js';
export { MAX_STORED_GOALS, removeStoredGoal, siteGoals, storeGoal, storedGoals } from './stored-goals.js';
export {
  PACKED_RANK_BITS,
  packedRegisters,
  packedSketchRegisters,
  redshiftRegisterText,
  type RedshiftRegisterText,
  sketchRegisters,
  snowflakeHllImport,
  unpackRegisters,
} from './sketch-formats.js';
export { createDuckDBWarehouse, type DuckDBWarehouseOptions } from './duckdb/warehouse.js';
export { createPostgresWarehouse, postgresDefaults, type PostgresWarehouseOptions } from './postgres/warehouse.js';
export { createRedshiftWarehouse, createSnowflakeWarehouse } from './lazy-adapters.js';
export { redshiftDefaults, type RedshiftWarehouseOptions } from './redshift/options.js';
export { snowflakeDefaults, type SnowflakeWarehouseOptions } from './snowflake/options.js';
