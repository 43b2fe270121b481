import { FILTER_DIMENSIONS, type FilterDimension, type Filters, type QueryParams, type QueryRow, type Warehouse } from './warehouse.js';
import { WarehouseError } from './errors.js';
import { listQueries, readSql } from './sql-files.js';

/** Granularity of the `visitors` query: one row per hour or day, or (absent) one for the range. */
export const VISITOR_PERIODS = ['hour', 'day'] as const;
export type VisitorPeriod = (typeof VISITOR_PERIODS)[number];

export interface NamedQueryParams {
  site: string;
  /** Inclusive start, UTC. */
  from: Date;
  /** Exclusive end, UTC. */
  to: Date;
  /** Row limit for top-N queries. Default 10. */
  limit?: number;
  /** `visitors`: one row per hour or day; default one row for the whole range. */
  by?: VisitorPeriod;
  /** `visitors`: the page (path) to count; default the whole site. */
  page?: string;
  /**
   * The goal queries (`goals`, `goal-sources`, `goal-pages`): run once per goal, rows in the
   * order of the goals. A custom event name, or a page path starting with `/`.
   */
  goals?: readonly string[];
  /** `filtered-top`: the dimension to break page views down by. */
  dimension?: FilterDimension;
  /** `filtered-traffic`: the event to count; default page views. */
  event?: string;
  /** `filtered-*`: values the counted events must have (bound as `filter_<dimension>`, NULL when absent). */
  filters?: Filters;
}

/**
 * Runs a query of the SQL pack (`sql/<dialect>/<name>.sql` or `sql/common/<name>.sql`). Every
 * query receives every parameter (`by` and `page` as NULL when absent) and uses those it needs;
 * a query with the parameter `goal` runs once per goal of `goals`.
 */
export async function runNamedQuery(warehouse: Warehouse, name: string, params: NamedQueryParams): Promise<QueryRow[]> {
  const pack = listQueries(warehouse.dialect);
  const entry = pack.find((q) => q.name === name);
  if (!entry) {
    throw new WarehouseError('WAREHOUSE_QUERY', `unknown query "${name}"; the pack has: ${pack.map((q) => q.name).join(', ')}`);
  }
  if (params.by !== undefined && !VISITOR_PERIODS.includes(params.by)) {
    throw new WarehouseError('WAREHOUSE_QUERY', `"by" must be one of ${VISITOR_PERIODS.join(', ')}, got ${JSON.stringify(params.by)}`);
  }
  if (params.dimension !== undefined && !FILTER_DIMENSIONS.includes(params.dimension)) {
    throw new WarehouseError('WAREHOUSE_QUERY', `"dimension" must be one of ${FILTER_DIMENSIONS.join(', ')}, got ${JSON.stringify(params.dimension)}`);
  }
  for (const key of Object.keys(params.filters ?? {})) {
    if (!FILTER_DIMENSIONS.includes(key as FilterDimension)) {
      throw new WarehouseError('WAREHOUSE_QUERY', `a filter must be on one of ${FILTER_DIMENSIONS.join(', ')}, got ${JSON.stringify(key)}`);
    }
  }
  const unfilterable = filterError(entry, params.filters ?? {}, params.page);
  if (unfilterable) throw new WarehouseError('WAREHOUSE_QUERY', unfilterable);
  if (entry.params.includes('dimension') && params.dimension === undefined) {
    throw new WarehouseError('WAREHOUSE_QUERY', `query "${name}" needs a dimension to break down by: one of ${FILTER_DIMENSIONS.join(', ')}`);
  }
  const sql = readSql(warehouse.dialect, name);
  const bound: QueryParams = {
    site: params.site,
    from: params.from,
    to: params.to,
    limit: params.limit ?? 10,
    by: params.by ?? null,
    page: params.page ?? params.filters?.page ?? null,
    dimension: params.dimension ?? null,
    event: params.event ?? null,
  };
  for (const d of FILTER_DIMENSIONS) bound[`filter_${d}`] = params.filters?.[d] ?? null;
  if (!entry.params.includes('goal')) return warehouse.query(sql, bound);
  const goals = params.goals ?? [];
  if (goals.length === 0) throw new WarehouseError('WAREHOUSE_QUERY', `query "${name}" needs a goal: a custom event name or a page path (GOALS, one added on the dashboard, or --goal)`);
  const rows: QueryRow[] = [];
  for (const goal of goals) rows.push(...(await warehouse.query(sql, { ...bound, goal })));
  return rows;
}

/**
 * Why a query cannot run with these filters, or undefined when it can: the `filtered-*`
 * queries take any filters; a query with a `page` parameter (`visitors`) takes a filter on the
 * page alone, as its page (its page sketches hold every minute, where `filtered-visitors` has
 * only the minutes with combination sketches); the others take none, rather than answer
 * unfiltered figures to a filtered request.
 */
export function filterError(query: { name: string; params: readonly string[] }, filters: Filters, page?: string): string | undefined {
  const dimensions = Object.keys(filters);
  if (dimensions.length === 0 || query.params.some((p) => p.startsWith('filter_'))) return undefined;
  if (query.params.includes('page') && filtersPageAlone(filters) && (page === undefined || page === filters.page)) return undefined;
  return query.params.includes('page')
    ? `query "${query.name}" takes a filter on the page alone (its page); filter the filtered-* queries (filtered-visitors for visitors) by ${dimensions.join(', ')}`
    : `query "${query.name}" cannot be filtered: the filtered-* queries take filters`;
}

/**
 * Minutes of [from, to) whose page views have combination counts but no combination sketches
 * (loaded before the version that keeps them): `filtered-visitors` would count too few there.
 */
export async function unsketchedMinutes(warehouse: Warehouse, site: string, from: Date, to: Date): Promise<number> {
  const [row] = await warehouse.query(readSql(warehouse.dialect, '_unsketched-minutes'), { site, from, to });
  return Number(row?.minutes ?? 0);
}

/** Whether the only filter is one on the page (then the page's sketches give its visitors). */
export function filtersPageAlone(filters: Filters): boolean {
  return filters.page !== undefined && Object.keys(filters).length === 1;
}

/** Longest filter value (characters): as long as a `combination` may be. */
const MAX_FILTER_LENGTH = 2_048;
// C0 and C1 control characters: no counted value has one (U+001F separates a combination's parts).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Filters from `dimension=value` pairs (the dashboard's URL, the CLI's --filter). Throws an Error
 * naming the pair for a dimension that cannot be filtered, an empty, overlong or control-character
 * value, or a dimension given twice.
 */
export function parseFilters(pairs: Iterable<readonly [string, string]>): Filters {
  const filters: Filters = {};
  for (const [dimension, value] of pairs) {
    if (!FILTER_DIMENSIONS.includes(dimension as FilterDimension)) {
      throw new Error(`cannot filter by "${dimension.slice(0, 64)}": filters are on ${FILTER_DIMENSIONS.join(', ')}`);
    }
    const d = dimension as FilterDimension;
    if (filters[d] !== undefined) throw new Error(`${d} is filtered twice; give one value`);
    if (value === '' || value.length > MAX_FILTER_LENGTH || CONTROL.test(value) || !value.isWellFormed()) {
      throw new Error(`the ${d} filter must be a value of 1 to ${MAX_FILTER_LENGTH} characters without control characters`);
    }
    filters[d] = value;
  }
  return filters;
}
