/**
 * The seam between the flusher and a warehouse. One adapter per folder (`duckdb/`, `postgres/`,
 * …), each built by a `createXWarehouse(options)` factory that owns its connections.
 *
 * Guarantees every adapter gives:
 * - `migrate()` creates the tables of the public SQL contract if missing; running it twice, or
 *   from two processes, is harmless.
 * - `load(batch)` is all or nothing and idempotent by `batch.batchId`: the rows and the ledger
 *   row in `load_batches` commit in one transaction; a batch id already in the ledger loads
 *   nothing and reports `already-loaded`. A failure at any point leaves no row behind.
 * - `loadBatches(batches)` loads each batch as `load` would and returns their results in order.
 *   DuckDB and PostgreSQL commit them in one transaction (one appender or COPY per table for all
 *   of them); Redshift and Snowflake one after the other. So after a failure some of them may
 *   have committed: loading them again reports those `already-loaded`, which is all the flusher
 *   relies on (it deletes a claim from Redis only after its batch is reported).
 * - `query(sql, params)` runs read-only SQL of the adapter's dialect with `:name` parameters.
 * - `execute(sql, params)` runs one statement that writes (the dashboard's goals), committed on
 *   its own.
 *
 * Left out: deduplication of rows across different batch ids (the flusher never builds two
 * batch ids for the same Redis data), schema changes after the first migration.
 */
export interface Warehouse {
  readonly dialect: Dialect;
  migrate(): Promise<void>;
  load(batch: MinuteBatch): Promise<LoadResult>;
  loadBatches(batches: readonly MinuteBatch[]): Promise<LoadResult[]>;
  query(sql: string, params?: QueryParams): Promise<QueryRow[]>;
  execute(sql: string, params?: QueryParams): Promise<void>;
  close(): Promise<void>;
}

export type Dialect = 'duckdb' | 'postgres' | 'redshift' | 'snowflake';

/** Dimensions of `event_counts`; `total` always has the value `''`. */
export const COUNTER_DIMENSIONS = [
  'total',
  'page',
  'referrer',
  'device',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  /** The page a visit started on; only for the events `visit` and `engaged_visit`. */
  'entry_page',
  /** ISO 3166-1 alpha-2 code of the client address, or `(unknown)`. */
  'country',
  /** Region and city names: only from a geolocation database that has them (`GEOIP_DATABASE`). */
  'region',
  'city',
  /** Browser name and major version (`Chrome 131`), or `(unknown)`. */
  'browser',
  /** Operating system name, or `(unknown)`. */
  'os',
  /**
   * An event's values of FILTER_DIMENSIONS together, in that order, joined by the character
   * U+001F (`chr(31)`): what the `filtered-*` queries filter and break down. `(other)` past the
   * cardinality guard or past 2,048 characters.
   */
  'combination',
] as const;
export type CounterDimension = (typeof COUNTER_DIMENSIONS)[number];

/** The parts of a `combination` value, in order: the dimensions the dashboard can filter by. */
export const FILTER_DIMENSIONS = ['page', 'referrer', 'device', 'country', 'browser', 'os', 'utm_source', 'utm_medium', 'utm_campaign'] as const;
export type FilterDimension = (typeof FILTER_DIMENSIONS)[number];
/** Values of some of FILTER_DIMENSIONS that counts must match (all of them). */
export type Filters = Partial<Record<FilterDimension, string>>;

/**
 * `event`: the visitors of a custom event (any but `pageview`), value the event name;
 * `combination`: the page views' visitors of one `combination` value (the visitors under filters);
 * `event_combination`: a custom event's visitors of one combination, value `<event>` U+001F
 * `<combination>` (a goal's converters per source and page).
 */
export const VISITOR_DIMENSIONS = ['total', 'page', 'event', 'combination', 'event_combination'] as const;
export type VisitorDimension = (typeof VISITOR_DIMENSIONS)[number];

/** One row of `event_counts`: events counted in one minute (UTC, second 0). */
export interface CounterRow {
  event: string;
  dimension: CounterDimension;
  value: string;
  count: bigint;
}

/** One row of `unique_visitors`: the HyperLogLog of one minute for the site or one page. */
export interface VisitorRow {
  dimension: VisitorDimension;
  value: string;
  /** PFCOUNT of the sketch. */
  visitors: number;
  /** The HyperLogLog as Redis serialises it (`GET` of the key), so minutes can be merged later. */
  sketch: Uint8Array;
}

/**
 * Everything claimed from Redis for one (site, minute) bucket generation. Its rows all carry
 * `site` and `minute`; a minute that received increments after its claim arrives as a further
 * batch with another id.
 */
export interface MinuteBatch {
  batchId: string;
  site: string;
  /** Start of the minute, UTC. */
  minute: Date;
  counters: CounterRow[];
  visitors: VisitorRow[];
}

export interface LoadResult {
  status: 'loaded' | 'already-loaded';
  counterRows: number;
  visitorRows: number;
}

/** `loadBatches` for an adapter that commits batch by batch. */
export async function loadOneByOne(warehouse: Pick<Warehouse, 'load'>, batches: readonly MinuteBatch[]): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (const batch of batches) results.push(await warehouse.load(batch));
  return results;
}

export type QueryValue = string | number | boolean | Date | null;
export type QueryParams = Record<string, QueryValue>;
/** Column name to value; BIGINTs come back as numbers when exact, otherwise as strings. */
export type QueryRow = Record<string, unknown>;

/**
 * Test hook every adapter accepts: runs inside the load transaction after all rows are written
 * and before COMMIT. Throwing from it must leave the warehouse unchanged.
 */
export interface LoadHooks {
  beforeCommit?: (batch: MinuteBatch) => Promise<void> | void;
}
