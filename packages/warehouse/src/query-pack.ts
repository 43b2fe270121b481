import type { QueryRow, Warehouse } from './warehouse.js';
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
}

/**
 * Runs a query of the SQL pack (`sql/<dialect>/<name>.sql` or `sql/common/<name>.sql`). Every
 * query receives every parameter (`by` and `page` as NULL when absent) and uses those it needs.
 */
export async function runNamedQuery(warehouse: Warehouse, name: string, params: NamedQueryParams): Promise<QueryRow[]> {
  const known = listQueries(warehouse.dialect).map((q) => q.name);
  if (!known.includes(name)) {
    throw new WarehouseError('WAREHOUSE_QUERY', `unknown query "${name}"; the pack has: ${known.join(', ')}`);
  }
  if (params.by !== undefined && !VISITOR_PERIODS.includes(params.by)) {
    throw new WarehouseError('WAREHOUSE_QUERY', `"by" must be one of ${VISITOR_PERIODS.join(', ')}, got ${JSON.stringify(params.by)}`);
  }
  return warehouse.query(readSql(warehouse.dialect, name), {
    site: params.site,
    from: params.from,
    to: params.to,
    limit: params.limit ?? 10,
    by: params.by ?? null,
    page: params.page ?? null,
  });
}
