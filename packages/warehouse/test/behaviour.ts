/**
 * The behaviour every warehouse adapter must show, written once and run against each adapter
 * (`duckdb.test.ts`, `postgres.test.ts`, …). An adapter that cannot pass a case declares it in
 * `skip` with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRegisters, encodeRedisHll, estimateCardinality } from '@rta/hll';
import { combination } from '../../../test/support/expected-counts.js';
import {
  listQueries,
  removeStoredGoal,
  runNamedQuery,
  storeGoal,
  storedGoals,
  unsketchedMinutes,
  type CounterRow,
  type FilterDimension,
  type Filters,
  type LoadHooks,
  type MinuteBatch,
  type QueryRow,
  type VisitorRow,
  type Warehouse,
} from '../src/index.js';

export interface AdapterUnderTest {
  warehouse: Warehouse;
  /** Drops what the adapter created (schema, database, file). */
  cleanup(): Promise<void>;
}

export type BehaviourCase = 'concurrent-migrate' | 'concurrent-load' | 'large-batch';

/** A Redis HyperLogLog string of `count` elements `<tag>-0` … (sparse when small, as Redis). */
export function redisSketch(tag: string, count: number, from = 0): Uint8Array {
  return encodeRedisHll(buildRegisters(Array.from({ length: count }, (_, i) => `${tag}-${from + i}`)));
}
const TOTAL_SKETCH = redisSketch('v', 10);

export interface BehaviourOptions {
  /** Builds a fresh, empty warehouse whose loads call `hooks`. */
  setup(hooks: LoadHooks): Promise<AdapterUnderTest>;
  skip?: Partial<Record<BehaviourCase, string>>;
  /** Rows in the large-batch case. Default 100,000. */
  largeBatchRows?: number;
}

const MINUTE = new Date('2026-03-01T10:07:00Z');
const HOSTILE = [
  `/it's "quoted"`,
  '/back\\slash\\',
  '/$$dollar$$ quoting $tag$',
  "/'); DROP TABLE event_counts; --",
  '/ünïcödé/日本語/😀',
  '/{braces}:colon*star',
  '/percent%20and%%',
];

export function sampleBatch(batchId: string, overrides: Partial<MinuteBatch> = {}): MinuteBatch {
  const counters: CounterRow[] = [
    { event: 'pageview', dimension: 'total', value: '', count: 12n },
    { event: 'pageview', dimension: 'page', value: '/', count: 7n },
    { event: 'pageview', dimension: 'page', value: '/pricing', count: 5n },
    { event: 'pageview', dimension: 'referrer', value: 'news.ycombinator.com', count: 9n },
    { event: 'pageview', dimension: 'referrer', value: '(direct)', count: 3n },
    { event: 'pageview', dimension: 'device', value: 'desktop', count: 12n },
    { event: 'signup', dimension: 'total', value: '', count: 2n },
    ...HOSTILE.map((value) => ({ event: 'pageview', dimension: 'page' as const, value, count: 1n })),
  ];
  return {
    batchId,
    site: 'example.com',
    minute: MINUTE,
    counters,
    visitors: [
      { dimension: 'total', value: '', visitors: 10, sketch: TOTAL_SKETCH },
      { dimension: 'page', value: '/', visitors: 6, sketch: redisSketch('v', 6) },
    ],
    ...overrides,
  };
}

const range = { site: 'example.com', from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') };

export function describeWarehouseBehaviour(name: string, options: BehaviourOptions): void {
  describe(`warehouse behaviour: ${name}`, () => {
    const hooks: LoadHooks = {};
    let subject: AdapterUnderTest;
    let warehouse: Warehouse;

    beforeAll(async () => {
      subject = await options.setup(hooks);
      warehouse = subject.warehouse;
      await warehouse.migrate();
    });
    afterAll(async () => {
      await warehouse?.close();
      await subject?.cleanup();
    });

    const skipped = (c: BehaviourCase) => options.skip?.[c] !== undefined;

    it('migrate twice is harmless', async () => {
      await warehouse.migrate();
      expect(await warehouse.query('SELECT count(*) AS n FROM load_batches')).toEqual([{ n: 0 }]);
    });

    it.skipIf(skipped('concurrent-migrate'))('concurrent migrations succeed', async () => {
      await Promise.all([warehouse.migrate(), warehouse.migrate(), warehouse.migrate()]);
    });

    it('loads a batch and returns the numbers through the query pack', async () => {
      const result = await warehouse.load(sampleBatch('b-first'));
      expect(result).toEqual({ status: 'loaded', counterRows: 14, visitorRows: 2 });
      expect(await runNamedQuery(warehouse, 'pageviews-by-hour', range)).toEqual([
        { hour: new Date('2026-03-01T10:00:00Z'), pageviews: 12 },
      ]);
      const pages = await runNamedQuery(warehouse, 'top-pages', { ...range, limit: 2 });
      expect(pages).toEqual([
        { page: '/', pageviews: 7 },
        { page: '/pricing', pageviews: 5 },
      ]);
      expect(await runNamedQuery(warehouse, 'top-referrers', range)).toEqual([
        { referrer: 'news.ycombinator.com', pageviews: 9 },
        { referrer: '(direct)', pageviews: 3 },
      ]);
      expect(await runNamedQuery(warehouse, 'visitors-by-minute', range)).toEqual([{ minute: MINUTE, visitors: 10 }]);
      const other = await runNamedQuery(warehouse, 'top-pages', { ...range, site: 'other.example' });
      expect(other).toEqual([]);
    });

    it('stores hostile values and sketch bytes verbatim', async () => {
      const rows = await warehouse.query(
        "SELECT value FROM event_counts WHERE batch_id = :id AND dimension = 'page' AND count = 1 ORDER BY value",
        { id: 'b-first' },
      );
      expect(rows.map((r) => r.value)).toEqual([...HOSTILE].sort(byCodeUnits));
      const sketches = await warehouse.query(
        "SELECT sketch FROM unique_visitors WHERE batch_id = :id AND dimension = 'total'",
        { id: 'b-first' },
      );
      expect(Buffer.from(sketches[0]!.sketch as Uint8Array)).toEqual(Buffer.from(TOTAL_SKETCH));
    });

    it('load is idempotent by batch id', async () => {
      const again = await warehouse.load(sampleBatch('b-first'));
      expect(again.status).toBe('already-loaded');
      expect(await totalPageviews(warehouse)).toBe(12);
      expect(await warehouse.query('SELECT count(*) AS n FROM load_batches')).toEqual([{ n: 1 }]);
    });

    it('a second batch of the same minute adds up', async () => {
      await warehouse.load(sampleBatch('b-late', { counters: [{ event: 'pageview', dimension: 'total', value: '', count: 3n }], visitors: [] }));
      expect(await totalPageviews(warehouse)).toBe(15);
    });

    it('a failure mid-load leaves nothing behind, and a retry loads', async () => {
      hooks.beforeCommit = () => {
        throw new Error('injected failure before commit');
      };
      await expect(warehouse.load(sampleBatch('b-fails'))).rejects.toMatchObject({
        code: 'WAREHOUSE_LOAD',
        batchId: 'b-fails',
      });
      hooks.beforeCommit = undefined;
      expect(await totalPageviews(warehouse)).toBe(15);
      expect(await warehouse.query("SELECT count(*) AS n FROM load_batches WHERE batch_id = 'b-fails'")).toEqual([{ n: 0 }]);
      expect(await warehouse.query("SELECT count(*) AS n FROM unique_visitors WHERE batch_id = 'b-fails'")).toEqual([{ n: 0 }]);
      expect((await warehouse.load(sampleBatch('b-fails'))).status).toBe('loaded');
      expect(await totalPageviews(warehouse)).toBe(27);
    });

    it.skipIf(skipped('concurrent-load'))('the same batch loaded twice at once counts once', async () => {
      const results = await Promise.all([warehouse.load(sampleBatch('b-race')), warehouse.load(sampleBatch('b-race'))]);
      expect(results.map((r) => r.status).sort()).toEqual(['already-loaded', 'loaded']);
      expect(await totalPageviews(warehouse)).toBe(39);
    });

    it('loadBatches loads each batch once, skipping those already in the ledger', async () => {
      const batch = (id: string, count: bigint) =>
        sampleBatch(id, {
          counters: [{ event: 'batched', dimension: 'total', value: '', count }],
          visitors: [{ dimension: 'total', value: '', visitors: 10, sketch: TOTAL_SKETCH }],
        });
      const loaded = { status: 'loaded', counterRows: 1, visitorRows: 1 };
      const skipped = { status: 'already-loaded', counterRows: 0, visitorRows: 0 };
      expect(await warehouse.load(batch('b-many-2', 2n))).toEqual(loaded);
      expect(await warehouse.loadBatches([batch('b-many-1', 1n), batch('b-many-2', 2n), batch('b-many-3', 4n)])).toEqual([loaded, skipped, loaded]);
      expect(await warehouse.loadBatches([batch('b-many-3', 4n)])).toEqual([skipped]);
      expect(await warehouse.loadBatches([])).toEqual([]);

      // A failure part-way: whatever committed before it is skipped by the retry, nothing doubles.
      hooks.beforeCommit = (b) => {
        if (b.batchId === 'b-many-5') throw new Error('injected failure before commit');
      };
      await expect(warehouse.loadBatches([batch('b-many-4', 8n), batch('b-many-5', 16n)])).rejects.toMatchObject({ code: 'WAREHOUSE_LOAD' });
      hooks.beforeCommit = undefined;
      const retried = await warehouse.loadBatches([batch('b-many-4', 8n), batch('b-many-5', 16n)]);
      expect(retried[1]).toEqual(loaded);
      const [sum] = await warehouse.query("SELECT sum(count) AS n FROM event_counts WHERE event = 'batched'");
      expect(Number(sum!.n)).toBe(31);
      const [sketches] = await warehouse.query("SELECT count(*) AS n FROM unique_visitors WHERE batch_id LIKE 'b-many-%'");
      expect(Number(sketches!.n)).toBe(5);
    });

    it.skipIf(skipped('large-batch'))('loads a large batch in one go', async () => {
      const n = options.largeBatchRows ?? 100_000;
      const counters: CounterRow[] = Array.from({ length: n }, (_, i) => ({
        event: 'pageview',
        dimension: 'page',
        value: `/large/${i}`,
        count: BigInt(i % 7) + 1n,
      }));
      const batch = sampleBatch('b-large', { minute: new Date('2026-03-01T11:00:00Z'), counters, visitors: [] });
      expect((await warehouse.load(batch)).counterRows).toBe(n);
      const [row] = await warehouse.query(
        "SELECT count(*) AS n, sum(count) AS total FROM event_counts WHERE batch_id = 'b-large'",
      );
      const expected = counters.reduce((sum, r) => sum + Number(r.count), 0);
      expect(row).toEqual({ n, total: expected });
    });

    it('a corrupt sketch fails the load and leaves nothing behind', async () => {
      const corrupt = sampleBatch('b-corrupt', {
        visitors: [{ dimension: 'total', value: '', visitors: 1, sketch: new Uint8Array([72, 89, 76, 76, 1, 0, 255, 7]) }],
      });
      await expect(warehouse.load(corrupt)).rejects.toMatchObject({ code: 'WAREHOUSE_LOAD', batchId: 'b-corrupt' });
      expect(await warehouse.query("SELECT count(*) AS n FROM load_batches WHERE batch_id = 'b-corrupt'")).toEqual([{ n: 0 }]);
    });

    describeVisitorMerging(() => warehouse);
    describeFilters(() => warehouse);
    describeGoals(() => warehouse);

    it('reports a bad query as a WarehouseError', async () => {
      await expect(warehouse.query('SELECT no_such_column FROM event_counts')).rejects.toMatchObject({
        code: 'WAREHOUSE_QUERY',
      });
      await expect(runNamedQuery(warehouse, 'no-such-query', range)).rejects.toThrow(/unknown query/);
    });

    it("every query of the pack answers the columns its header declares (the CSV header when it has no rows)", async () => {
      const site = 'columns.example'; // the last case: the others count rows of every site
      const count = (event: string, dimension: CounterRow['dimension'], value: string): CounterRow => ({ event, dimension, value, count: 1n });
      await warehouse.load(
        sampleBatch('b-columns', {
          site,
          counters: [
            ...sampleBatch('').counters,
            count('visit', 'total', ''),
            count('visit', 'entry_page', '/'),
            count('pageview', 'utm_source', 'newsletter'),
            { event: 'pageview', dimension: 'country', value: 'DE', count: 3n },
            { event: 'pageview', dimension: 'country', value: 'US', count: 8n },
            { event: 'pageview', dimension: 'country', value: '(unknown)', count: 1n },
            { event: 'signup', dimension: 'country', value: 'FR', count: 2n },
            count('pageview', 'region', 'Bavaria'),
            count('pageview', 'city', 'München'),
            { event: 'pageview', dimension: 'browser', value: 'Chrome 131', count: 7n },
            { event: 'pageview', dimension: 'browser', value: 'Firefox 128', count: 5n },
            { event: 'pageview', dimension: 'os', value: 'Windows', count: 12n },
            count('signup', 'referrer', 'news.example'),
            count('signup', 'page', '/'),
            count('pageview', 'combination', combination({ page: '/' })),
          ],
          visitors: [...sampleBatch('').visitors, { dimension: 'combination', value: combination({ page: '/' }), visitors: 3, sketch: redisSketch('v', 3) }],
        }),
      );
      for (const query of listQueries(warehouse.dialect)) {
        const rows = await runNamedQuery(warehouse, query.name, {
          ...range,
          site,
          page: query.params.includes('page') ? '/' : undefined,
          goals: query.params.includes('goal') ? ['signup'] : undefined,
          dimension: query.params.includes('dimension') ? 'page' : undefined,
        });
        expect(rows.length, query.name).toBeGreaterThan(0);
        expect(Object.keys(rows[0]!), query.name).toEqual(query.columns);
      }
      // Page views only, most first; another event's countries are not page views.
      const top = async (name: string) => (await runNamedQuery(warehouse, name, { ...range, site, limit: 10 })).map((r) => Object.values(r).map(String).join(' '));
      expect(await top('top-countries')).toEqual(['US 8', 'DE 3', '(unknown) 1']);
      expect(await top('top-browsers')).toEqual(['Chrome 131 7', 'Firefox 128 5']);
      expect(await top('top-os')).toEqual(['Windows 12']);
      expect(await top('top-regions')).toEqual(['Bavaria 1']);
      expect(await top('top-cities')).toEqual(['München 1']);
    });
  });
}

/** `HH:MM` (UTC) of a TIMESTAMP as a driver returns it: a Date, or text without a zone. */
function hourOf(value: unknown): string {
  const date = value instanceof Date ? value : new Date(`${String(value).replace(' ', 'T')}${/[zZ+]/.test(String(value)) ? '' : 'Z'}`);
  return date.toISOString().slice(11, 16);
}

/** The `filtered-*` queries: page views matching every filter, by any dimension, from the `combination` rows. */
function describeFilters(current: () => Warehouse): void {
  const day = { site: 'filters.example', from: new Date('2026-03-03T00:00:00Z'), to: new Date('2026-03-04T00:00:00Z') };
  const at = (hh: number, mm: number) => new Date(Date.UTC(2026, 2, 3, hh, mm));
  const base = { referrer: '(direct)', device: 'desktop', country: 'DE', browser: 'Firefox 128', os: 'Linux' };
  const row = (values: Filters, count: number, event = 'pageview'): CounterRow => ({ event, dimension: 'combination', value: combination(values), count: BigInt(count) });

  it('filtered-top and filtered-traffic count the page views that match every filter', async () => {
    const warehouse = current();
    const minute = (id: string, when: Date, counters: CounterRow[]) => ({ batchId: id, site: day.site, minute: when, counters, visitors: [] });
    await warehouse.load(
      minute('f-1', at(9, 0), [
        row({ ...base, page: '/' }, 5),
        row({ ...base, page: '/pricing', country: 'FR' }, 3),
        row({ ...base, page: '/pricing', referrer: 'news.example', utm_source: 'newsletter' }, 2),
        row({ ...base, page: HOSTILE[0], browser: 'Chrome 131', os: 'Windows' }, 4),
        row({ ...base, page: '/' }, 7, 'signup'), // not a page view
        { event: 'pageview', dimension: 'combination', value: '(other)', count: 100n }, // past the guard
        { event: 'pageview', dimension: 'page', value: '/', count: 1_000n }, // another dimension
      ]),
    );
    // A second batch of the same minute and one of another hour add up.
    await warehouse.load(minute('f-2', at(9, 0), [row({ ...base, page: '/' }, 1)]));
    await warehouse.load(minute('f-3', at(10, 30), [row({ ...base, page: '/pricing', country: 'FR' }, 6)]));
    await warehouse.load({ ...minute('f-4', at(10, 30), [row({ ...base, page: '/' }, 50)]), site: 'other.example' });

    const top = async (dimension: FilterDimension, filters: Filters = {}, limit = 10) =>
      (await runNamedQuery(warehouse, 'filtered-top', { ...day, dimension, filters, limit })).map((r) => `${String(r.value)} ${Number(r.pageviews)}`);
    expect(await top('page')).toEqual(['/pricing 11', '/ 6', `${HOSTILE[0]} 4`]);
    expect(await top('page', {}, 1)).toEqual(['/pricing 11']);
    expect(await top('page', { country: 'DE' })).toEqual(['/ 6', `${HOSTILE[0]} 4`, '/pricing 2']);
    expect(await top('country', { page: '/pricing' })).toEqual(['FR 9', 'DE 2']);
    expect(await top('referrer', { page: '/pricing', country: 'DE' })).toEqual(['news.example 2']);
    expect(await top('utm_source')).toEqual(['newsletter 2']); // '' (no parameter) is not a value
    expect(await top('browser', { os: 'Windows' })).toEqual(['Chrome 131 4']);
    expect(await top('os', { page: HOSTILE[0] })).toEqual(['Windows 4']);
    expect(await top('device', { country: 'US' })).toEqual([]);

    const traffic = async (filters: Filters, by?: 'hour') =>
      (await runNamedQuery(warehouse, 'filtered-traffic', { ...day, filters, by })).map((r) => `${hourOf(r.period)} ${Number(r.events)}`);
    expect(await traffic({})).toEqual(['00:00 21']);
    expect(await traffic({ country: 'FR' }, 'hour')).toEqual(['09:00 3', '10:00 6']);
    expect(await traffic({ country: 'FR', page: '/' })).toEqual([]);
    const signups = await runNamedQuery(warehouse, 'filtered-traffic', { ...day, event: 'signup', filters: { country: 'DE' } });
    expect(signups.map((r) => Number(r.events))).toEqual([7]);

    await expect(runNamedQuery(warehouse, 'filtered-top', day)).rejects.toThrow('query "filtered-top" needs a dimension');
    await expect(runNamedQuery(warehouse, 'filtered-top', { ...day, dimension: 'city' as FilterDimension })).rejects.toThrow('"dimension" must be one of page, referrer');
    await expect(runNamedQuery(warehouse, 'filtered-traffic', { ...day, filters: { region: 'x' } as Filters })).rejects.toThrow('a filter must be on one of page');
  });
}

/**
 * The `visitors` query merges sketches across batches, minutes and pages in SQL. Expected values
 * are computed with @rta/hll from the same elements; a warehouse at p=14 (its estimator is
 * PFCOUNT's, up to float rounding) is within 1, Snowflake's p=12 sketches within 3.5%.
 */
function describeVisitorMerging(current: () => Warehouse): void {
  const day = { site: 'merge.example', from: new Date('2026-03-02T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') };
  const at = (hh: number, mm: number) => new Date(Date.UTC(2026, 2, 2, hh, mm));
  // Two batches of minute 10:01 (overlapping), one of 10:30, one of 11:05 (dense: > 4,681 registers).
  const loads: Array<{ id: string; minute: Date; total: [number, number]; page: [number, number] }> = [
    { id: 'm-1a', minute: at(10, 1), total: [0, 300], page: [0, 40] },
    { id: 'm-1b', minute: at(10, 1), total: [200, 300], page: [20, 40] },
    { id: 'm-2', minute: at(10, 30), total: [250, 5_000], page: [0, 5] },
    { id: 'm-3', minute: at(11, 5), total: [0, 9_000], page: [1_000, 1] },
  ];
  const exact = (ranges: Array<[number, number]>) => estimateOf(ranges.flatMap(([from, n]) => Array.from({ length: n }, (_, i) => from + i)));

  it('visitors merges sketches across batches, minutes and pages', async () => {
    const warehouse = current();
    for (const load of loads) {
      await warehouse.load({
        batchId: load.id,
        site: day.site,
        minute: load.minute,
        counters: [],
        visitors: [
          { dimension: 'total', value: '', visitors: load.total[1], sketch: redisSketch('u', load.total[1], load.total[0]) },
          { dimension: 'page', value: '/a', visitors: load.page[1], sketch: redisSketch('u', load.page[1], load.page[0]) },
        ],
      });
    }
    const tolerance = warehouse.dialect === 'snowflake' ? 0.035 : 0;
    const near = (actual: unknown, expected: number) =>
      expect(Math.abs(Number(actual) - expected)).toBeLessThanOrEqual(Math.max(1, expected * tolerance));

    const whole = await runNamedQuery(warehouse, 'visitors', day);
    expect(whole).toHaveLength(1);
    expect(whole[0]!.period).toEqual(day.from);
    near(whole[0]!.visitors, exact(loads.map((l) => l.total)));

    const hours = await runNamedQuery(warehouse, 'visitors', { ...day, by: 'hour' });
    expect(hours.map((r) => r.period)).toEqual([at(10, 0), at(11, 0)]);
    near(hours[0]!.visitors, exact(loads.slice(0, 3).map((l) => l.total)));
    near(hours[1]!.visitors, exact([loads[3]!.total]));

    const minute = await runNamedQuery(warehouse, 'visitors', { ...day, to: at(10, 2) });
    near(minute[0]!.visitors, exact([[0, 500]])); // two batches of one minute: 500 visitors, not 600

    // A page's visitors also merge its page views' combinations' sketches (not another page's).
    const combinations = [
      { dimension: 'combination' as const, value: combination({ page: '/a', country: 'DE' }), visitors: 20, sketch: redisSketch('u', 20, 5_000) },
      { dimension: 'combination' as const, value: combination({ page: '/b' }), visitors: 20, sketch: redisSketch('u', 20, 6_000) },
    ];
    await warehouse.load({ batchId: 'm-4', site: day.site, minute: at(10, 45), counters: [], visitors: combinations });
    const page = await runNamedQuery(warehouse, 'visitors', { ...day, by: 'day', page: '/a' });
    expect(page.map((r) => r.period)).toEqual([day.from]);
    near(page[0]!.visitors, exact([...loads.map((l) => l.page), [5_000, 20]]));

    expect(await runNamedQuery(warehouse, 'visitors', { ...day, page: '/none' })).toEqual([]);

    // A filter on the page alone is the page; visitors are not kept per other dimension.
    expect(await runNamedQuery(warehouse, 'visitors', { ...day, by: 'day', filters: { page: '/a' } })).toEqual(page);
    await expect(runNamedQuery(warehouse, 'visitors', { ...day, filters: { page: '/a', country: 'DE' } })).rejects.toThrow('query "visitors" takes a filter on the page alone');
    await expect(runNamedQuery(warehouse, 'visitors', { ...day, page: '/b', filters: { page: '/a' } })).rejects.toThrow('takes a filter on the page alone');
    await expect(runNamedQuery(warehouse, 'top-pages', { ...day, filters: { country: 'DE' } })).rejects.toThrow('query "top-pages" cannot be filtered');
  });

  it('counts the minutes whose page views have combination counts but no combination sketch', async () => {
    const warehouse = current();
    const site = 'unsketched.example';
    const value = combination({ page: '/', referrer: '(direct)' });
    const counter = (event: string, v: string): CounterRow => ({ event, dimension: 'combination', value: v, count: 2n });
    const load = (batchId: string, minute: Date, counters: CounterRow[], visitors: VisitorRow[] = []) => warehouse.load({ batchId, site, minute, counters, visitors });
    await load('us-1', at(10, 0), [counter('pageview', value)], [{ dimension: 'combination', value, visitors: 2, sketch: redisSketch('u', 2) }]);
    await load('us-2', at(10, 1), [counter('pageview', value)]); // loaded before combination sketches
    await load('us-3', at(10, 2), [counter('pageview', '(other)')]); // past the guard: never sketched
    await load('us-4', at(10, 3), [counter('signup', value)]); // not page views
    expect(await unsketchedMinutes(warehouse, site, day.from, day.to)).toBe(1);
    expect(await unsketchedMinutes(warehouse, site, day.from, at(10, 1))).toBe(0);
    expect(await unsketchedMinutes(warehouse, 'other.example', day.from, day.to)).toBe(0);
  });

  it("filtered-visitors merges the sketches of the combinations that match every filter", async () => {
    const warehouse = current();
    const site = 'fvisitors.example';
    const base = { referrer: '(direct)', device: 'desktop', country: 'DE', browser: 'Firefox 128', os: 'Linux' };
    const A = combination({ ...base, page: '/' });
    const B = combination({ ...base, page: '/pricing', country: 'FR' });
    const C = combination({ ...base, page: HOSTILE[0], browser: 'Chrome 131', os: 'Windows' });
    const sketch = (value: string, [from, n]: [number, number]): VisitorRow => ({ dimension: 'combination', value, visitors: n, sketch: redisSketch('u', n, from) });
    const load = (batchId: string, minute: Date, visitors: VisitorRow[], other = site) => warehouse.load({ batchId, site: other, minute, counters: [], visitors });
    // Visitors 0–39 on A and C (overlapping), 100–139 on B; two batches of one minute overlap.
    await load('fv-1', at(9, 0), [sketch(A, [0, 30]), sketch(B, [100, 20]), sketch(C, [20, 20])]);
    await load('fv-2', at(9, 0), [sketch(A, [25, 10])]);
    await load('fv-3', at(10, 30), [sketch(B, [110, 30])]);
    await load('fv-4', at(10, 30), [sketch(A, [1_000, 500])], 'other.example');
    await load('fv-5', at(10, 30), [{ dimension: 'page', value: '/', visitors: 500, sketch: redisSketch('u', 500, 2_000) }]);
    const tolerance = warehouse.dialect === 'snowflake' ? 0.035 : 0;
    const visitors = async (filters: Filters, by?: 'hour') =>
      (await runNamedQuery(warehouse, 'filtered-visitors', { ...day, site, filters, by })).map((r) => ({ hour: hourOf(r.period), visitors: Number(r.visitors) }));
    const expectVisitors = async (filters: Filters, expected: Array<[string, Array<[number, number]>]>, by?: 'hour') => {
      const rows = await visitors(filters, by);
      expect(rows.map((r) => r.hour)).toEqual(expected.map(([hour]) => hour));
      rows.forEach((row, i) => {
        const want = exact(expected[i]![1]);
        expect(Math.abs(row.visitors - want)).toBeLessThanOrEqual(Math.max(1, want * tolerance));
      });
    };
    await expectVisitors({}, [['00:00', [[0, 40], [100, 40]]]]);
    await expectVisitors({ country: 'DE' }, [['00:00', [[0, 40]]]]);
    await expectVisitors({ country: 'FR' }, [['09:00', [[100, 20]]], ['10:00', [[110, 30]]]], 'hour');
    await expectVisitors({ country: 'DE', page: '/' }, [['00:00', [[0, 35]]]]);
    await expectVisitors({ page: HOSTILE[0], os: 'Windows' }, [['00:00', [[20, 20]]]]);
    expect(await visitors({ country: 'US' })).toEqual([]);
    expect(await visitors({ country: 'FR', page: '/' })).toEqual([]);
  });
}

/**
 * The goal queries: conversions are exact sums over batches and minutes; converters and
 * visitors merge the goal's and the site's sketches (two batches of one minute overlap, so a
 * sum of the minute estimates would be wrong); a page goal counts page views of its path.
 */
function describeGoals(current: () => Warehouse): void {
  const day = { site: 'goals.example', from: new Date('2026-03-04T00:00:00Z'), to: new Date('2026-03-05T00:00:00Z') };
  const at = (hh: number, mm: number) => new Date(Date.UTC(2026, 2, 4, hh, mm));
  const count = (event: string, dimension: CounterRow['dimension'], value: string, n: number): CounterRow => ({ event, dimension, value, count: BigInt(n) });
  const sketch = (dimension: VisitorRow['dimension'], value: string, from: number, n: number) => ({ dimension, value, visitors: n, sketch: redisSketch('u', n, from) });
  // A custom event's sketches per combination (event first), and page views' (page first).
  const signup = (page: string, referrer: string, from: number, n: number) => sketch('event_combination', `signup\x1f${combination({ page, referrer })}`, from, n);
  const viewed = (page: string, referrer: string, country: string | undefined, from: number, n: number) => sketch('combination', combination({ page, referrer, country }), from, n);
  const signups = (page: string, referrer: string, n: number) => count('signup', 'combination', combination({ page, referrer }), n);
  const views = (page: string, referrer: string, country: string | undefined, n: number) => count('pageview', 'combination', combination({ page, referrer, country }), n);
  const loads: MinuteBatch[] = [
    {
      batchId: 'g-1a',
      site: day.site,
      minute: at(10, 1),
      counters: [
        count('pageview', 'total', '', 10),
        count('pageview', 'page', '/thank-you', 4),
        count('signup', 'total', '', 3),
        count('signup', 'referrer', 'news.example', 2),
        count('signup', 'referrer', '(direct)', 1),
        count('signup', 'page', '/pricing', 3),
        signups('/pricing', 'news.example', 2),
        signups('/pricing', '(direct)', 1),
        views('/pricing', 'news.example', undefined, 100),
        views('/', '(direct)', undefined, 200),
      ],
      visitors: [
        sketch('total', '', 0, 1_000),
        sketch('event', 'signup', 0, 30),
        sketch('page', '/thank-you', 0, 40),
        signup('/pricing', 'news.example', 0, 20),
        signup('/pricing', '(direct)', 20, 10),
        viewed('/pricing', 'news.example', undefined, 0, 100),
        viewed('/', '(direct)', undefined, 500, 200),
      ],
    },
    {
      batchId: 'g-1b',
      site: day.site,
      minute: at(10, 1),
      counters: [
        count('signup', 'total', '', 2),
        count('signup', 'referrer', 'news.example', 2),
        count('signup', 'page', '/pricing', 1),
        count('signup', 'page', '/docs', 1),
        signups('/pricing', 'news.example', 1),
        signups('/docs', 'news.example', 1),
      ],
      // The minute's second batch: its sketches overlap the first's (merged, not summed).
      visitors: [
        sketch('total', '', 500, 1_000),
        sketch('event', 'signup', 20, 30),
        sketch('page', '/docs', 40, 5),
        signup('/pricing', 'news.example', 10, 15),
        signup('/docs', 'news.example', 40, 5),
      ],
    },
    {
      batchId: 'g-2',
      site: day.site,
      minute: at(11, 0),
      counters: [
        count('pageview', 'page', '/thank-you', 1),
        // The page goal's sources: its page views' combinations (another page's are not).
        views('/thank-you', 'ads.example', undefined, 3),
        views('/thank-you', '(direct)', 'FR', 1),
        views('/thank-you', 'ads.example', 'DE', 1),
        views('/pricing', 'ads.example', undefined, 9),
        signups('/thank-you', 'mail.example', 9),
      ],
      // Page views' visitors are in their combinations' sketches: a page goal merges them.
      visitors: [
        sketch('total', '', 1_000, 200),
        viewed('/thank-you', 'ads.example', undefined, 120, 3),
        viewed('/thank-you', 'ads.example', 'DE', 100, 6),
        viewed('/thank-you', '(direct)', 'FR', 104, 6),
        viewed('/pricing', 'ads.example', undefined, 3_000, 50),
        signup('/thank-you', 'mail.example', 900, 9),
      ],
    },
    // Another site's signups and a minute past the range are not counted.
    { batchId: 'g-other', site: 'other.example', minute: at(10, 1), counters: [count('signup', 'total', '', 9)], visitors: [sketch('event', 'signup', 0, 9)] },
    { batchId: 'g-late', site: day.site, minute: day.to, counters: [count('signup', 'total', '', 9)], visitors: [sketch('event', 'signup', 900, 9)] },
    // A minute loaded before custom events' combination sketches: counted, but not sketched.
    {
      batchId: 'g-unsketched',
      site: 'unsketched-goals.example',
      minute: at(9, 0),
      counters: [count('signup', 'total', '', 1), count('signup', 'referrer', '(direct)', 1), count('signup', 'page', '/', 1), signups('/', '(direct)', 1)],
      visitors: [sketch('total', '', 0, 1), sketch('event', 'signup', 0, 1)],
    },
  ];
  const span = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

  it('goals: conversions, merged converters and the rate per goal; per source and per page', async () => {
    const warehouse = current();
    for (const load of loads) await warehouse.load(load);
    const tolerance = warehouse.dialect === 'snowflake' ? 0.035 : 0;
    const near = (actual: unknown, expected: number) =>
      expect(Math.abs(Number(actual) - expected)).toBeLessThanOrEqual(Math.max(1, expected * tolerance));

    const goals = await runNamedQuery(warehouse, 'goals', { ...day, goals: ['signup', '/thank-you', 'never.sent'] });
    expect(goals.map((g) => [g.goal, Number(g.conversions)])).toEqual([['signup', 5], ['/thank-you', 5], ['never.sent', 0]]);
    const visitors = estimateOf(span(0, 1_500));
    for (const goal of goals) near(goal.visitors, visitors);
    near(goals[0]!.converters, estimateOf(span(0, 50))); // 30 + 30 with 10 in both batches
    const thankYou = [...span(0, 40), ...span(100, 10), ...span(120, 3)];
    near(goals[1]!.converters, estimateOf(thankYou));
    expect(Number(goals[2]!.converters)).toBe(0);
    for (const goal of goals) expect(Number(goal.conversion_rate)).toBeCloseTo(Number(goal.converters) / Number(goal.visitors), 9);

    // Per source and page: conversions exact, then converters and visitors merged per row.
    const perRow = async (name: string, range = day) => {
      const rows = await runNamedQuery(warehouse, name, { ...range, goals: ['signup', '/thank-you'] });
      for (const r of rows) {
        if (r.visitors !== null && Number(r.visitors) > 0) expect(Number(r.conversion_rate)).toBeCloseTo(Number(r.converters) / Number(r.visitors), 9);
      }
      return rows;
    };
    const expectRows = (rows: QueryRow[], key: string, expected: Array<[string, string, number, number[], number[]]>) => {
      expect(rows.map((r) => [r.goal, r[key], Number(r.conversions)])).toEqual(expected.map(([goal, item, conversions]) => [goal, item, conversions]));
      expected.forEach(([, , , converters, visitors], i) => {
        near(rows[i]!.converters, estimateOf(converters));
        near(rows[i]!.visitors, estimateOf(visitors));
      });
    };
    // An event goal's converters per source are its combinations' sketches of the source; its
    // visitors, the page views' of the source; a page goal's converters, its page views' there.
    expectRows(await perRow('goal-sources'), 'source', [
      ['signup', 'news.example', 4, [...span(0, 25), ...span(40, 5)], span(0, 100)],
      ['signup', '(direct)', 1, span(20, 10), [...span(500, 200), ...span(104, 6)]],
      ['/thank-you', 'ads.example', 4, [...span(100, 6), ...span(120, 3)], [...span(100, 6), ...span(120, 3), ...span(3_000, 50)]],
      ['/thank-you', '(direct)', 1, span(104, 6), [...span(500, 200), ...span(104, 6)]],
    ]);
    // Per page: an event goal's converters from its combinations' sketches of the page, the
    // page's visitors from its sketches and its page views' combinations'; a page goal is its page.
    expectRows(await perRow('goal-pages'), 'page', [
      ['signup', '/pricing', 4, span(0, 30), [...span(0, 100), ...span(3_000, 50)]],
      ['signup', '/docs', 1, span(40, 5), span(40, 5)],
      ['/thank-you', '/thank-you', 5, thankYou, thankYou],
    ]);
    // A minute without those sketches (loaded by an earlier version): conversions, no estimates.
    const unsketched = { ...day, site: 'unsketched-goals.example', goals: ['signup'] };
    for (const name of ['goal-sources', 'goal-pages']) {
      const rows = await runNamedQuery(warehouse, name, unsketched);
      expect(rows.map((r) => [Number(r.conversions), r.converters, r.visitors, r.conversion_rate])).toEqual([[1, null, null, null]]);
    }

    // From 11:00 only the last minute counts.
    const later = await runNamedQuery(warehouse, 'goals', { ...day, from: at(11, 0), goals: ['signup', '/thank-you'] });
    expect(later.map((g) => [g.goal, Number(g.conversions), Number(g.converters)])).toEqual([['signup', 0, 0], ['/thank-you', 1, expect.any(Number)]]);
    near(later[1]!.converters, estimateOf([...span(100, 10), ...span(120, 3)]));
    near(later[1]!.visitors, estimateOf(span(1_000, 200)));

    // Without visitors in the range the rate is NULL, not a division by zero.
    const empty = await runNamedQuery(warehouse, 'goals', { ...day, from: at(20, 0), goals: ['signup'] });
    expect(empty.map((g) => [Number(g.conversions), Number(g.converters), Number(g.visitors), g.conversion_rate])).toEqual([[0, 0, 0, null]]);
    await expect(runNamedQuery(warehouse, 'goals', day)).rejects.toThrow('query "goals" needs a goal');
  });

  it('takes a page of the longest path the tracker accepts (1,024 characters) as a parameter, uncut', async () => {
    const warehouse = current();
    const long = `/${'p'.repeat(1_023)}`;
    const site = 'long.example';
    await warehouse.load({
      batchId: 'long-1',
      site,
      minute: at(10, 1),
      counters: [count('pageview', 'page', long, 3), count('pageview', 'page', long.slice(0, 256), 1)],
      visitors: [sketch('page', long, 0, 25), sketch('page', long.slice(0, 256), 0, 1)],
    });
    const visitors = await runNamedQuery(warehouse, 'visitors', { ...day, site, page: long });
    expect(Math.abs(Number(visitors[0]?.visitors) - 25)).toBeLessThanOrEqual(1);
    const goals = await runNamedQuery(warehouse, 'goals', { ...day, site, goals: [long] });
    expect(goals.map((g) => [g.goal, Number(g.conversions)])).toEqual([[long, 3]]);
    await storeGoal(warehouse, site, long);
    expect(await storedGoals(warehouse, site)).toEqual([long]);
  });

  it("stores a dashboard's goals per site: added once, oldest first, removed", async () => {
    const warehouse = current();
    expect(await storedGoals(warehouse, 'stored.example')).toEqual([]);
    await storeGoal(warehouse, 'stored.example', '/thank-you', new Date('2026-03-04T10:00:00Z'));
    await storeGoal(warehouse, 'stored.example', "it's-a.goal", new Date('2026-03-04T11:00:00Z'));
    await storeGoal(warehouse, 'stored.example', '/thank-you', new Date('2026-03-04T12:00:00Z')); // there already
    await storeGoal(warehouse, 'other.example', 'signup');
    expect(await storedGoals(warehouse, 'stored.example')).toEqual(['/thank-you', "it's-a.goal"]);
    await removeStoredGoal(warehouse, 'stored.example', '/thank-you');
    await removeStoredGoal(warehouse, 'stored.example', '/never-added');
    expect(await storedGoals(warehouse, 'stored.example')).toEqual(["it's-a.goal"]);
    expect(await storedGoals(warehouse, 'other.example')).toEqual(['signup']);
  });
}

function estimateOf(ids: number[]): number {
  return estimateCardinality(buildRegisters([...new Set(ids)].map((i) => `u-${i}`)));
}

async function totalPageviews(warehouse: Warehouse): Promise<number> {
  const [row] = await warehouse.query(
    "SELECT coalesce(sum(count), 0) AS n FROM event_counts WHERE event = 'pageview' AND dimension = 'total'",
  );
  return Number(row?.n);
}

function byCodeUnits(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
