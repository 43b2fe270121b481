import { runNamedQuery, type QueryRow, type Warehouse } from '@rta/warehouse';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface HistoryRange {
  site: string;
  /** Inclusive start of the range the tops cover. */
  from: Date;
  /** Exclusive end. */
  to: Date;
}

export interface PeriodRow {
  period: string;
  pageviews: number;
  visits: number;
  bounces: number;
  /** Unique visitors merged from the minute sketches (the pack's `visitors` query). */
  visitors: number;
}

/** What `GET /api/history` answers, from the warehouse through the SQL pack. */
export interface History {
  site: string;
  warehouse: string;
  /** The 48 hours ending with the current hour, and the 30 days ending with today (UTC), oldest first; quiet periods are zeros. */
  hourly: PeriodRow[];
  daily: PeriodRow[];
  range: {
    from: string;
    to: string;
    totals: { pageviews: number; visits: number; bounces: number; bounceRate: number | null; pagesPerVisit: number | null; visitors: number };
    topPages: Array<{ value: string; pageviews: number }>;
    topReferrers: Array<{ value: string; pageviews: number }>;
    topEntryPages: Array<{ value: string; visits: number; bounceRate: number | null }>;
    devices: Array<{ value: string; pageviews: number }>;
    campaigns: Array<{ dimension: string; value: string; pageviews: number }>;
  };
}

/**
 * Reads the history of a site. Every number comes from a named query of the SQL pack, so the
 * dashboard shows what `pnpm cli query …` prints, on whichever warehouse is configured.
 */
export async function readHistory(warehouse: Warehouse, range: HistoryRange, now: number, top = 10): Promise<History> {
  const run = (name: string, params: { from: Date; to: Date; by?: 'hour' | 'day' }) =>
    runNamedQuery(warehouse, name, { site: range.site, limit: top, ...params });
  const periods = async (by: 'hour' | 'day', step: number, count: number): Promise<PeriodRow[]> => {
    const end = Math.floor(now / step) * step + step;
    const window = { from: new Date(end - count * step), to: new Date(end), by };
    const traffic = byPeriod(await run('traffic', window));
    const visitors = byPeriod(await run('visitors', window));
    return Array.from({ length: count }, (_, i) => {
      const period = new Date(end - (count - i) * step).toISOString();
      const t = traffic.get(period);
      return {
        period,
        pageviews: num(t?.pageviews),
        visits: num(t?.visits),
        bounces: num(t?.bounces),
        visitors: num(visitors.get(period)?.visitors),
      };
    });
  };
  const hourly = await periods('hour', HOUR, 48);
  const daily = await periods('day', DAY, 30);
  const [totals] = await run('traffic', range);
  const [visitors] = await run('visitors', range);
  return {
    site: range.site,
    warehouse: warehouse.dialect,
    hourly,
    daily,
    range: {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      totals: {
        pageviews: num(totals?.pageviews),
        visits: num(totals?.visits),
        bounces: num(totals?.bounces),
        bounceRate: nullableNum(totals?.bounce_rate),
        pagesPerVisit: nullableNum(totals?.pages_per_visit),
        visitors: num(visitors?.visitors),
      },
      topPages: (await run('top-pages', range)).map((r) => ({ value: String(r.page), pageviews: num(r.pageviews) })),
      topReferrers: (await run('top-referrers', range)).map((r) => ({ value: String(r.referrer), pageviews: num(r.pageviews) })),
      topEntryPages: (await run('top-entry-pages', range)).map((r) => ({
        value: String(r.entry_page),
        visits: num(r.visits),
        bounceRate: nullableNum(r.bounce_rate),
      })),
      devices: (await run('top-devices', range)).map((r) => ({ value: String(r.device), pageviews: num(r.pageviews) })),
      campaigns: (await run('top-campaigns', range)).map((r) => ({
        dimension: String(r.dimension),
        value: String(r.value),
        pageviews: num(r.pageviews),
      })),
    },
  };
}

function byPeriod(rows: QueryRow[]): Map<string, QueryRow> {
  return new Map(rows.map((r) => [toIso(r.period), r]));
}

function toIso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value).replace(' ', 'T') + (/[zZ+]/.test(String(value)) ? '' : 'Z')).toISOString();
}

function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function nullableNum(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
