import { filtersPageAlone, runNamedQuery, unsketchedMinutes, type FilterDimension, type Filters, type QueryRow, type Warehouse } from '@rta/warehouse';
import type { DateRange } from './date-range.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * Queries of one history in flight at once: a history is about twenty queries, and on Redshift
 * or Snowflake each takes a round trip or more, so they overlap; as many as PostgreSQL's pool
 * holds connections (DuckDB runs them one at a time anyway).
 */
export const HISTORY_QUERIES_IN_FLIGHT = 4;

/** Figures a filtered history does not have (visits and what derives from them) are null there. */
export interface Totals {
  pageviews: number;
  visits: number | null;
  bounces: number | null;
  bounceRate: number | null;
  pagesPerVisit: number | null;
  /**
   * Unique visitors merged from the minute sketches (the pack's `visitors` or `filtered-visitors`
   * query); null under filters (but the page alone) when the window has minutes loaded before
   * combination sketches were kept, whose visitors filtered-visitors cannot count.
   */
  visitors: number | null;
}

export interface PeriodRow {
  period: string;
  pageviews: number;
  visits: number | null;
  bounces: number | null;
  visitors: number | null;
  /** The same period of the previous range (the period its length earlier); null past the previous range's end. */
  previous: { period: string; pageviews: number; visits: number | null; visitors: number | null } | null;
}

/** A goal per source or page (`value`): converters and rate null for minutes without their sketches. */
export interface GoalBreakdownRow {
  goal: string;
  value: string;
  conversions: number;
  converters: number | null;
  /** Converters / the visitors of the source or page; null without them. */
  conversionRate: number | null;
}

/** A goal of the site (GOALS, then those added on the dashboard) over the range (the pack's `goals` query), next to the previous period. */
export interface GoalRow {
  goal: string;
  conversions: number;
  /** Unique visitors who converted (merged sketches); null in a filtered history. */
  converters: number | null;
  /** Converters / the site's visitors; null without visitors. */
  conversionRate: number | null;
  previous: { conversions: number; converters: number | null; conversionRate: number | null };
  /** Relative for conversions and converters (null when the previous is 0); the rate's as a difference of rates. */
  change: { conversions: number | null; converters: number | null; conversionRate: number | null };
}

/** What `GET /api/history` answers, from the warehouse through the SQL pack. */
export interface History {
  site: string;
  warehouse: string;
  /**
   * What the history is filtered by (the dashboard's chips). With filters, every count is of the
   * page views (and goal conversions) that match all of them, from the `combination` rows, and
   * visitors are those of these page views (`filtered-visitors`: the combinations' sketches;
   * null for a window with minutes from before those sketches), or under a filter on the page
   * alone the page's (`visitors`, visitors with any event on it); visits, bounces, entry pages
   * and converters are not kept per combination and are null or empty.
   */
  filters: Filters;
  range: {
    preset: DateRange['preset'];
    from: string;
    to: string;
    /** Granularity of `series`. */
    by: 'hour' | 'day';
    totals: Totals;
    topPages: Array<{ value: string; pageviews: number }>;
    topReferrers: Array<{ value: string; pageviews: number }>;
    topEntryPages: Array<{ value: string; visits: number; bounceRate: number | null }>;
    devices: Array<{ value: string; pageviews: number }>;
    campaigns: Array<{ dimension: string; value: string; pageviews: number }>;
    /** ISO 3166-1 alpha-2 codes, or `(unknown)`. */
    countries: Array<{ value: string; pageviews: number }>;
    browsers: Array<{ value: string; pageviews: number }>;
    operatingSystems: Array<{ value: string; pageviews: number }>;
    /** One row per goal of the site, in their order; empty without goals. */
    goals: GoalRow[];
    /** Each goal per source and per page (the `goal-sources` and `goal-pages` queries). */
    goalSources: GoalBreakdownRow[];
    goalPages: GoalBreakdownRow[];
  };
  /** The period compared with (see DateRange.previous) and its totals. */
  previous: { from: string; to: string; totals: Totals };
  /**
   * Change against the previous period: relative (0.5 = +50 %) for counts and pages per visit,
   * null when the previous value is 0; the bounce rate's as a difference of rates (0.05 = +5
   * percentage points), null when either has no visits.
   */
  change: { pageviews: number | null; visitors: number | null; visits: number | null; bounceRate: number | null; pagesPerVisit: number | null };
  /** Every hour or day (`range.by`) of the range, oldest first; quiet periods are zeros. */
  series: PeriodRow[];
}

/**
 * Reads the history of a site over a range and its previous period. Every number comes from a
 * named query of the SQL pack, so the dashboard shows what `pnpm cli query …` prints (and its
 * CSV downloads are those queries' output), on whichever warehouse is configured. With filters,
 * the counts come from the `filtered-*` queries (see History.filters).
 */
export async function readHistory(
  warehouse: Warehouse,
  site: string,
  range: DateRange,
  goals: readonly string[] = [],
  top = 10,
  filters: Filters = {},
): Promise<History> {
  const filtered = Object.keys(filters).length > 0;
  /** Visitors under filters: the page's sketches for a filter on the page alone (they hold every minute), else the combinations'. */
  const visitorsQuery = filtersPageAlone(filters) ? 'visitors' : 'filtered-visitors';
  type Window = { from: Date; to: Date };
  const slot = limiter(HISTORY_QUERIES_IN_FLIGHT);
  /** Whether filtered-visitors can count a window's visitors: asked once per window (its totals and series share it). */
  const sketched = new Map<Window, Promise<boolean>>();
  const visitorsKnown = (window: Window): Promise<boolean> => {
    if (visitorsQuery === 'visitors') return Promise.resolve(true);
    let known = sketched.get(window);
    if (!known) sketched.set(window, (known = slot(() => unsketchedMinutes(warehouse, site, window.from, window.to)).then((n) => n === 0)));
    return known;
  };
  const run = (name: string, params: Window & { by?: 'hour' | 'day'; dimension?: FilterDimension; event?: string; filters?: Filters }) =>
    slot(() => runNamedQuery(warehouse, name, { site, limit: top, goals, filters, ...params }));
  const goalsOf = async (window: Window): Promise<QueryRow[]> => {
    if (goals.length === 0) return [];
    if (!filtered) return run('goals', window);
    // Conversions that match the filters; converters are not kept per combination.
    return Promise.all(
      goals.map(async (goal) => {
        const page = goal.startsWith('/');
        const conflicting = page && filters.page !== undefined && filters.page !== goal;
        const [row] = conflicting ? [] : await run('filtered-traffic', page ? { ...window, filters: { ...filters, page: goal } } : { ...window, event: goal });
        return { goal, conversions: num(row?.events), converters: null, conversion_rate: null };
      }),
    );
  };
  const goalRows = async (name: string, window: Window, column: string) =>
    goals.length === 0 || filtered
      ? []
      : (await run(name, window)).map((r) => ({
          goal: String(r.goal),
          value: String(r[column]),
          conversions: num(r.conversions),
          converters: nullableNum(r.converters),
          conversionRate: nullableNum(r.conversion_rate),
        }));
  const totalsOf = async (window: Window): Promise<Totals> => {
    if (filtered) {
      const [[t], [v], known] = await Promise.all([run('filtered-traffic', window), run(visitorsQuery, window), visitorsKnown(window)]);
      return { pageviews: num(t?.events), visits: null, bounces: null, bounceRate: null, pagesPerVisit: null, visitors: known ? num(v?.visitors) : null };
    }
    const [[t], [v]] = await Promise.all([run('traffic', window), run('visitors', window)]);
    return {
      pageviews: num(t?.pageviews),
      visits: num(t?.visits),
      bounces: num(t?.bounces),
      bounceRate: nullableNum(t?.bounce_rate),
      pagesPerVisit: nullableNum(t?.pages_per_visit),
      visitors: num(v?.visitors),
    };
  };
  const perPeriod = async (window: Window) => {
    const by = { ...window, by: range.by };
    if (filtered) {
      const [traffic, visitors, known] = await Promise.all([run('filtered-traffic', by).then(byPeriod), run(visitorsQuery, by).then(byPeriod), visitorsKnown(window)]);
      return (period: string) => ({ period, pageviews: num(traffic.get(period)?.events), visits: null, bounces: null, visitors: known ? num(visitors.get(period)?.visitors) : null });
    }
    const [traffic, visitors] = await Promise.all([run('traffic', by).then(byPeriod), run('visitors', by).then(byPeriod)]);
    return (period: string) => {
      const t = traffic.get(period);
      return { period, pageviews: num(t?.pageviews), visits: num(t?.visits), bounces: num(t?.bounces), visitors: num(visitors.get(period)?.visitors) };
    };
  };
  const shown = { from: range.from, to: range.to };
  const filteredTop = async (dimension: FilterDimension) =>
    (await run('filtered-top', { ...shown, dimension })).map((r) => ({ value: String(r.value), pageviews: num(r.pageviews) }));
  /** Page views per value of a dimension: its `top-*` query, or with filters `filtered-top`. */
  const topOf = async (query: string, dimension: FilterDimension) =>
    filtered ? filteredTop(dimension) : (await run(query, shown)).map((r) => ({ value: String(r[dimension]), pageviews: num(r.pageviews) }));
  const campaigns = async () => {
    if (!filtered) return (await run('top-campaigns', shown)).map((r) => ({ dimension: String(r.dimension), value: String(r.value), pageviews: num(r.pageviews) }));
    const parts = await Promise.all((['utm_source', 'utm_medium', 'utm_campaign'] as const).map(async (dimension) => (await filteredTop(dimension)).map((r) => ({ dimension, ...r }))));
    return parts.flat();
  };

  // Every query is started here, at most HISTORY_QUERIES_IN_FLIGHT running at once.
  const [totals, previousTotals, current, before, shownGoals, previousGoals, tops] = await Promise.all([
    totalsOf(shown),
    totalsOf(range.previous),
    perPeriod(shown),
    perPeriod(range.previous),
    goalsOf(shown),
    goalsOf(range.previous),
    Promise.all([
      topOf('top-pages', 'page'),
      topOf('top-referrers', 'referrer'),
      filtered
        ? []
        : run('top-entry-pages', shown).then((rows) => rows.map((r) => ({ value: String(r.entry_page), visits: num(r.visits), bounceRate: nullableNum(r.bounce_rate) }))),
      topOf('top-devices', 'device'),
      campaigns(),
      topOf('top-countries', 'country'),
      topOf('top-browsers', 'browser'),
      topOf('top-os', 'os'),
      goalRows('goal-sources', shown, 'source'),
      goalRows('goal-pages', shown, 'page'),
    ]),
  ]);
  const [topPages, topReferrers, topEntryPages, devices, campaignRows, countries, browsers, operatingSystems, goalSources, goalPages] = tops;
  const step = range.by === 'hour' ? HOUR : DAY;
  const length = range.to.getTime() - range.from.getTime();
  const series: PeriodRow[] = [];
  for (let t = Math.floor(range.from.getTime() / step) * step; t < range.to.getTime(); t += step) {
    const earlier = t - length;
    const { bounces: _, ...previous } = before(new Date(earlier).toISOString());
    series.push({ ...current(new Date(t).toISOString()), previous: earlier < range.previous.to.getTime() ? previous : null });
  }
  return {
    site,
    warehouse: warehouse.dialect,
    filters,
    range: {
      preset: range.preset,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      by: range.by,
      totals,
      topPages,
      topReferrers,
      topEntryPages,
      devices,
      campaigns: campaignRows,
      countries,
      browsers,
      operatingSystems,
      goals: shownGoals.map((g, i) => goalRow(g, previousGoals[i]!)),
      goalSources,
      goalPages,
    },
    previous: { from: range.previous.from.toISOString(), to: range.previous.to.toISOString(), totals: previousTotals },
    change: {
      pageviews: relative(totals.pageviews, previousTotals.pageviews),
      visitors: relative(totals.visitors, previousTotals.visitors),
      visits: relative(totals.visits, previousTotals.visits),
      bounceRate: totals.bounceRate === null || previousTotals.bounceRate === null ? null : totals.bounceRate - previousTotals.bounceRate,
      pagesPerVisit: totals.pagesPerVisit === null || previousTotals.pagesPerVisit === null ? null : relative(totals.pagesPerVisit, previousTotals.pagesPerVisit),
    },
    series,
  };
}

function goalRow(current: QueryRow, before: QueryRow): GoalRow {
  const figures = (r: QueryRow) => ({ conversions: num(r.conversions), converters: nullableNum(r.converters), conversionRate: nullableNum(r.conversion_rate) });
  const now = figures(current);
  const previous = figures(before);
  return {
    goal: String(current.goal),
    ...now,
    previous,
    change: {
      conversions: relative(now.conversions, previous.conversions),
      converters: relative(now.converters, previous.converters),
      conversionRate: now.conversionRate === null || previous.conversionRate === null ? null : now.conversionRate - previous.conversionRate,
    },
  };
}

/**
 * Runs at most `n` of the functions it is given at once, the others as earlier ones finish; after
 * one failed, those still waiting fail without running (the history has failed already, and a
 * warehouse that is down should not get the rest of its queries one timeout after another).
 */
function limiter(n: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  let failure: unknown;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      if (failure !== undefined) throw failure;
      return await work().catch((error: unknown) => {
        failure ??= error;
        throw error;
      });
    } finally {
      // A finished slot passes to the next waiter as it is, so no caller can take it between.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

function relative(current: number | null, previous: number | null): number | null {
  return current === null || previous === null || previous === 0 ? null : (current - previous) / previous;
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
