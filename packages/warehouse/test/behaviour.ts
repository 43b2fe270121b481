/**
 * The behaviour every warehouse adapter must show, written once and run against each adapter
 * (`duckdb.test.ts`, `postgres.test.ts`, …). An adapter that cannot pass a case declares it in
 * `skip` with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runNamedQuery,
  type CounterRow,
  type LoadHooks,
  type MinuteBatch,
  type Warehouse,
} from '../src/index.js';

export interface AdapterUnderTest {
  warehouse: Warehouse;
  /** Drops what the adapter created (schema, database, file). */
  cleanup(): Promise<void>;
}

export type BehaviourCase = 'concurrent-migrate' | 'concurrent-load' | 'large-batch';

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
      { dimension: 'total', value: '', visitors: 10, sketch: new Uint8Array([72, 89, 76, 76, 1, 0, 255, 7]) },
      { dimension: 'page', value: '/', visitors: 6, sketch: new Uint8Array([0, 1, 2, 3]) },
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
      expect(Buffer.from(sketches[0]!.sketch as Uint8Array)).toEqual(Buffer.from([72, 89, 76, 76, 1, 0, 255, 7]));
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

    it('reports a bad query as a WarehouseError', async () => {
      await expect(warehouse.query('SELECT no_such_column FROM event_counts')).rejects.toMatchObject({
        code: 'WAREHOUSE_QUERY',
      });
      await expect(runNamedQuery(warehouse, 'no-such-query', range)).rejects.toThrow(/unknown query/);
    });
  });
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
