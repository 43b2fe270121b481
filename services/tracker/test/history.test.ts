/**
 * A filtered history (the dashboard's drill-down) from a real DuckDB file: every count is of the
 * page views and conversions that match all filters, from the `combination` rows, and their
 * visitors from the combinations' sketches; what is not kept per combination (visits, entry
 * pages, converters) is null or empty.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDBWarehouse, type CounterRow, type Filters, type QueryParams, type VisitorRow, type Warehouse } from '@rta/warehouse';
import { HISTORY_QUERIES_IN_FLIGHT, readHistory } from '../src/history.js';
import { resolveRange } from '../src/date-range.js';
import { combination } from '../../../test/support/expected-counts.js';
import { redisSketch } from '../../../packages/warehouse/test/behaviour.js';

const SITE = 'example.com';
const NOW = Date.UTC(2026, 2, 10, 12, 0);
const row = (event: string, values: Filters, n: number): CounterRow => ({ event, dimension: 'combination', value: combination(values), count: BigInt(n) });
const de = { referrer: 'news.example', device: 'desktop', country: 'DE', browser: 'Firefox 128', os: 'Linux' };
const us = { ...de, country: 'US', referrer: '(direct)', utm_source: 'newsletter' };
/** The sketch of visitors `v<from>` … `v<from + n - 1>` of page views of a combination. */
const visitors = (values: Filters, from: number, n: number): VisitorRow => ({
  dimension: 'combination',
  value: combination(values),
  visitors: n,
  sketch: redisSketch('v', n, from),
});

describe('a filtered history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rta-history-'));
  let warehouse: Warehouse;
  beforeAll(async () => {
    warehouse = createDuckDBWarehouse({ path: join(dir, 'h.duckdb') });
    await warehouse.migrate();
    const load = (id: string, minute: string, counters: CounterRow[], sketches: VisitorRow[] = []) =>
      warehouse.load({ batchId: id, site: SITE, minute: new Date(`${minute}Z`), counters, visitors: sketches });
    // Today (10 March until 12:00) and the same hours of yesterday.
    await load('today', '2026-03-10T09:00', [
      row('pageview', { ...de, page: '/' }, 6),
      row('pageview', { ...de, page: '/pricing' }, 3),
      row('pageview', { ...us, page: '/pricing' }, 5),
      row('signup', { ...de, page: '/pricing' }, 2),
      row('signup', { ...us, page: '/pricing' }, 7),
      { event: 'pageview', dimension: 'total', value: '', count: 14n },
      { event: 'visit', dimension: 'total', value: '', count: 4n },
    ], [visitors({ ...de, page: '/' }, 0, 4), visitors({ ...de, page: '/pricing' }, 2, 4), visitors({ ...us, page: '/pricing' }, 10, 5)]);
    await load('yesterday', '2026-03-09T10:00', [row('pageview', { ...de, page: '/' }, 3), row('signup', { ...de, page: '/' }, 1)], [visitors({ ...de, page: '/' }, 0, 2)]);
  });
  afterAll(async () => {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts only what matches every filter, against the previous period filtered the same way', async () => {
    const range = resolveRange({ range: 'today' }, NOW);
    const history = await readHistory(warehouse, SITE, range, ['signup', '/pricing'], 10, { country: 'DE' });
    expect(history.filters).toEqual({ country: 'DE' });
    // Visitors v0–v5 viewed pages from DE today (v2, v3 on both pages), v0–v1 yesterday.
    expect(history.range.totals).toEqual({ pageviews: 9, visits: null, bounces: null, bounceRate: null, pagesPerVisit: null, visitors: 6 });
    expect(history.previous.totals).toMatchObject({ pageviews: 3, visitors: 2 });
    expect(history.change).toEqual({ pageviews: 2, visitors: 2, visits: null, bounceRate: null, pagesPerVisit: null });
    expect(history.range.topPages).toEqual([{ value: '/', pageviews: 6 }, { value: '/pricing', pageviews: 3 }]);
    expect(history.range.countries).toEqual([{ value: 'DE', pageviews: 9 }]);
    expect(history.range.topReferrers).toEqual([{ value: 'news.example', pageviews: 9 }]);
    expect(history.range.campaigns).toEqual([]);
    expect(history.range.topEntryPages).toEqual([]);
    const nine = history.series.find((s) => s.period === '2026-03-10T09:00:00.000Z')!;
    expect(nine).toMatchObject({ pageviews: 9, visitors: 6, visits: null, previous: { pageviews: 0, visitors: 0 } });
    expect(history.series.find((s) => s.period === '2026-03-10T10:00:00.000Z')!.previous).toMatchObject({ pageviews: 3, visitors: 2 });
    // Conversions of the event goal and page views of the page goal, from DE only.
    expect(history.range.goals.map((g) => [g.goal, g.conversions, g.converters, g.conversionRate, g.previous.conversions])).toEqual([
      ['signup', 2, null, null, 1],
      ['/pricing', 3, null, null, 0],
    ]);
    expect(history.range.goalSources).toEqual([]);
    expect(history.range.goalPages).toEqual([]);
  });

  it('narrows with a second filter; a page goal under another page filter has no conversions', async () => {
    const range = resolveRange({ range: 'today' }, NOW);
    const history = await readHistory(warehouse, SITE, range, ['signup', '/pricing'], 10, { page: '/pricing', utm_source: 'newsletter' });
    expect(history.range.totals).toMatchObject({ pageviews: 5, visitors: 5 });
    expect(history.range.countries).toEqual([{ value: 'US', pageviews: 5 }]);
    expect(history.range.campaigns).toEqual([{ dimension: 'utm_source', value: 'newsletter', pageviews: 5 }]);
    expect(history.range.goals.map((g) => [g.goal, g.conversions])).toEqual([['signup', 7], ['/pricing', 5]]);
    const onHome = await readHistory(warehouse, SITE, range, ['/pricing'], 10, { page: '/' });
    expect(onHome.range.goals.map((g) => [g.goal, g.conversions])).toEqual([['/pricing', 0]]);
  });

  it('has no filtered visitors for a window with minutes loaded before combination sketches', async () => {
    // Yesterday's minute as the version before combination sketches loaded it: the combination
    // counters, and the page's sketch of every hit.
    const site = 'upgraded.example';
    await warehouse.load({ batchId: 'up-today', site, minute: new Date('2026-03-10T09:00Z'), counters: [row('pageview', { ...de, page: '/' }, 4)], visitors: [visitors({ ...de, page: '/' }, 0, 3)] });
    await warehouse.load({ batchId: 'up-yesterday', site, minute: new Date('2026-03-09T10:00Z'), counters: [row('pageview', { ...de, page: '/' }, 5)], visitors: [{ dimension: 'page', value: '/', visitors: 2, sketch: redisSketch('v', 2, 50) }] });
    const range = resolveRange({ range: 'today' }, NOW);
    const history = await readHistory(warehouse, site, range, [], 10, { country: 'DE' });
    expect([history.range.totals.visitors, history.previous.totals.visitors, history.change.visitors]).toEqual([3, null, null]);
    expect([history.range.totals.pageviews, history.previous.totals.pageviews]).toEqual([4, 5]);
    const nine = history.series.find((s) => s.period === '2026-03-10T09:00:00.000Z')!;
    expect(nine).toMatchObject({ pageviews: 4, visitors: 3, previous: { pageviews: 0, visitors: null } });
    // A filter on the page alone reads the page's visitors, which those minutes have.
    expect((await readHistory(warehouse, site, range, [], 10, { page: '/' })).previous.totals.visitors).toBe(2);
  });

  it(`runs its queries side by side, at most ${HISTORY_QUERIES_IN_FLIGHT} at once, with the answer of one at a time`, async () => {
    let inFlight = 0;
    let most = 0;
    let tail: Promise<unknown> = Promise.resolve();
    const counting: Warehouse = Object.assign(Object.create(warehouse) as Warehouse, {
      query: async (sql: string, params?: QueryParams) => {
        most = Math.max(most, ++inFlight);
        try {
          return await warehouse.query(sql, params);
        } finally {
          inFlight--;
        }
      },
    });
    const serial: Warehouse = Object.assign(Object.create(warehouse) as Warehouse, {
      query: (sql: string, params?: QueryParams) => {
        const result = tail.then(() => warehouse.query(sql, params));
        tail = result.catch(() => undefined);
        return result;
      },
    });
    const range = resolveRange({ range: 'today' }, NOW);
    for (const filters of [{}, { country: 'DE' }] as Filters[]) {
      most = 0;
      const history = await readHistory(counting, SITE, range, ['signup', '/pricing'], 10, filters);
      expect(most).toBe(HISTORY_QUERIES_IN_FLIGHT);
      expect(history).toEqual(await readHistory(serial, SITE, range, ['signup', '/pricing'], 10, filters));
    }
  });

  it('against a warehouse that fails, fails without starting the queries still waiting', async () => {
    let started = 0;
    const down: Warehouse = Object.assign(Object.create(warehouse) as Warehouse, {
      query: async () => {
        started++;
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('warehouse down');
      },
    });
    await expect(readHistory(down, SITE, resolveRange({ range: 'today' }, NOW), ['signup'], 10)).rejects.toThrow('warehouse down');
    await new Promise((resolve) => setTimeout(resolve, 50)); // what was waiting settles
    expect(started).toBe(HISTORY_QUERIES_IN_FLIGHT);
  });

  it('without filters is the unfiltered history', async () => {
    const history = await readHistory(warehouse, SITE, resolveRange({ range: 'today' }, NOW), [], 10);
    expect(history.filters).toEqual({});
    expect(history.range.totals).toMatchObject({ pageviews: 14, visits: 4 });
  });
});
