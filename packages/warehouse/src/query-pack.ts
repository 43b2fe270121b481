import type { QueryRow, Warehouse } from './warehouse.js';
import { WarehouseError } from './errors.js';
import { listQueries, readSql } from './sql-files.js';

export interface NamedQueryParams {
  site: string;
  /** Inclusive start, UTC. */
  from: Date;
  /** Exclusive end, UTC. */
  to: Date;
  /** Row limit for top-N queries. Default 10. */
  limit?: number;
}

/** Runs a query of the SQL pack (`sql/<dialect>/<name>.sql` or `sql/common/<name>.sql`). */
export async function runNamedQuery(warehouse: Warehouse, name: string, params: NamedQueryParams): Promise<QueryRow[]> {
  const known = listQueries(warehouse.dialect).map((q) => q.name);
  if (!known.includes(name)) {
    throw new WarehouseError('WAREHOUSE_QUERY', `unknown query "${name}"; the pack has: ${known.join(', ')}`);
  }
  return warehouse.query(readSql(warehouse.dialect, name), {
    site: params.site,
    from: params.from,
    to: params.to,
    limit: params.limit ?? 10,
  });
}
