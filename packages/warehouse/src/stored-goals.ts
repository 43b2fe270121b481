import type { Warehouse } from './warehouse.js';
import { readSql } from './sql-files.js';

/** Goals one site's dashboard may add (next to those of GOALS). */
export const MAX_STORED_GOALS = 50;

/** The goals a site's dashboard added, oldest first (table `dashboard_goals`). */
export async function storedGoals(warehouse: Warehouse, site: string): Promise<string[]> {
  return (await warehouse.query(readSql(warehouse.dialect, '_stored-goals'), { site })).map((row) => String(row.goal));
}

/** A site's goals as the dashboard and the CLI report them: those of GOALS, then those its dashboard added. */
export async function siteGoals(warehouse: Warehouse, site: string, configured: readonly string[]): Promise<string[]> {
  return [...new Set([...configured, ...(await storedGoals(warehouse, site))])];
}

/** Adds a goal to a site's dashboard; adding one that is there changes nothing. */
export async function storeGoal(warehouse: Warehouse, site: string, goal: string, now = new Date()): Promise<void> {
  await warehouse.execute(readSql(warehouse.dialect, '_store-goal'), { site, goal, now });
}

/** Removes a goal from a site's dashboard; removing one that is not there changes nothing. */
export async function removeStoredGoal(warehouse: Warehouse, site: string, goal: string): Promise<void> {
  await warehouse.execute(readSql(warehouse.dialect, '_remove-goal'), { site, goal });
}
