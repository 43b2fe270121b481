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
  /**
   * The goal queries (`goals`, `goal-sources`, `goal-pages`): run once per goal, rows in the
   * order of the goals. A custom event name, or a page path starting with `/`.
   */
  goals?: readonly string[];
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
  const sql = readSql(warehouse.dialect, name);
  const bound = { site: params.site, from: params.from, to: params.to, limit: params.limit ?? 10, by: params.by ?? null, page: params.page ?? null };
  if (!entry.params.includes('goal')) return warehouse.query(sql, bound);
  const goals = params.goals ?? [];
  if (goals.length === 0) throw new WarehouseError('WAREHOUSE_QUERY', `query "${name}" needs a goal: a custom event name or a page path (GOALS, one added on the dashboard, or --goal)`);
  const rows: QueryRow[] = [];
  for (const goal of goals) rows.push(...(await warehouse.query(sql, { ...bound, goal })));
  return rows;
}
