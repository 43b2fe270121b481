/**
 * The Snowflake adapter against the Snowflake test server (test/snowflake-server) with the real
 * snowflake-sdk driver: the shared behaviour suite, then what is Snowflake's own: configuration
 * errors, transient failures mid-load (dropped connections, expired or vanished sessions,
 * replayed requests) retried without double counting, and failed statements leaving nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSnowflakeWarehouse, type SnowflakeWarehouseOptions } from '../src/snowflake/warehouse.js';
import { startSnowflakeFixture, type SnowflakeFixture } from '../../../test/support/snowflake-fixture.js';
import { describeWarehouseBehaviour, sampleBatch } from './behaviour.js';
import type { LoadHooks, Warehouse } from '../src/index.js';

describeWarehouseBehaviour('snowflake', {
  async setup(hooks) {
    const fixture = await startSnowflakeFixture();
    return {
      warehouse: createSnowflakeWarehouse({ ...fixture.options, hooks }),
      cleanup: () => fixture.stop(),
    };
  },
});

/** Rows, summed counts and ledger rows of one batch. */
async function footprint(warehouse: Warehouse, batchId: string) {
  const [counters] = await warehouse.query(
    'SELECT count(*) AS n, coalesce(sum(count), 0) AS total FROM event_counts WHERE batch_id = :id',
    { id: batchId },
  );
  const [visitors] = await warehouse.query('SELECT count(*) AS n FROM unique_visitors WHERE batch_id = :id', { id: batchId });
  const [ledger] = await warehouse.query('SELECT count(*) AS n FROM load_batches WHERE batch_id = :id', { id: batchId });
  return { counterRows: counters!.n, total: counters!.total, visitorRows: visitors!.n, ledger: ledger!.n };
}

const LOADED = { counterRows: 14, total: 57, visitorRows: 2, ledger: 1 };
const NOTHING = { counterRows: 0, total: 0, visitorRows: 0, ledger: 0 };

describe('snowflake adapter', () => {
  let fixture: SnowflakeFixture;
  let warehouse: Warehouse;
  const hooks: LoadHooks = {};

  beforeAll(async () => {
    fixture = await startSnowflakeFixture();
    warehouse = createSnowflakeWarehouse({ ...fixture.options, hooks, chunkRows: 10_000 });
    await warehouse.migrate();
  });
  afterAll(async () => {
    await warehouse?.close();
    await fixture?.stop();
  });

  it('rejects bad settings with WAREHOUSE_CONFIG naming the variable, never the secret', () => {
    const base: SnowflakeWarehouseOptions = { account: 'acme-prod', username: 'loader', password: 's3cret-pw', database: 'RTA', schema: 'ANALYTICS' };
    const cases: Array<[Partial<SnowflakeWarehouseOptions>, RegExp]> = [
      [{ account: '' }, /SNOWFLAKE_ACCOUNT is required/],
      [{ username: ' ' }, /SNOWFLAKE_USERNAME is required/],
      [{ database: '' }, /SNOWFLAKE_DATABASE/],
      [{ schema: 'bad schema;' }, /SNOWFLAKE_SCHEMA must be a Snowflake identifier/],
      [{ privateKeyPath: '/no/such/key.p8' }, /exactly one of SNOWFLAKE_PASSWORD and SNOWFLAKE_PRIVATE_KEY_PATH/],
      [{ password: undefined }, /exactly one of SNOWFLAKE_PASSWORD and SNOWFLAKE_PRIVATE_KEY_PATH/],
      [{ password: undefined, privateKeyPath: '/no/such/key.p8' }, /SNOWFLAKE_PRIVATE_KEY_PATH points to no file/],
      [{ accessUrl: 'ftp://x' }, /SNOWFLAKE_ACCESS_URL/],
      [{ chunkRows: 0 }, /chunkRows/],
      [{ maxBindBytes: 5_000 }, /SNOWFLAKE_MAX_BIND_BYTES/],
      [{ statementTimeoutMs: 0 }, /WAREHOUSE_STATEMENT_TIMEOUT_SECONDS/],
    ];
    for (const [override, message] of cases) {
      let error: unknown;
      try {
        createSnowflakeWarehouse({ ...base, ...override });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'WAREHOUSE_CONFIG', message: expect.stringMatching(message) });
      expect(String((error as Error).message)).not.toContain('s3cret-pw');
    }
  });

  it('keeps the password out of errors and out of the driver log', async () => {
    const lines: string[] = [];
    const wrong = createSnowflakeWarehouse({
      ...fixture.options,
      password: 'wrong-password-123',
      loginRetries: 0,
      driverLogLevel: 'INFO',
      driverLogger: (_level, message) => lines.push(message),
    });
    const error = await wrong.query('SELECT 1 AS x').catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'WAREHOUSE_QUERY' });
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('wrong-password-123');
    await wrong.close();
    const right = createSnowflakeWarehouse({ ...fixture.options, driverLogLevel: 'INFO', driverLogger: (_l, m) => lines.push(m) });
    await right.query('SELECT 1 AS x');
    await right.close();
    createSnowflakeWarehouse({ ...fixture.options }); // back to OFF for the rest of the process
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toMatch(/wrong-password-123|rta-test-password/);
  });

  it('maps result values: exact numbers, UTC dates, bytes, lower-case names', async () => {
    const [row] = await warehouse.query(
      "SELECT 12 AS small, CAST('12345678901234567890' AS NUMBER(38,0)) AS big, CAST(1.5 AS NUMBER(10,2)) AS scaled, " +
        "CAST(:at AS TIMESTAMP_NTZ) AS at_minute, TO_BINARY(:hex, 'HEX') AS bytes, :flag AS flag, :text AS quoted",
      { at: new Date('2026-03-01T10:07:00.250Z'), hex: 'ff00', flag: true, text: `a'b"c\\$$` },
    );
    expect(row).toEqual({
      small: 12,
      big: '12345678901234567890',
      scaled: 1.5,
      at_minute: new Date('2026-03-01T10:07:00.250Z'),
      bytes: new Uint8Array([255, 0]),
      flag: true,
      quoted: `a'b"c\\$$`,
    });
  });

  it('stages rows with one array-bind round trip per chunk', async () => {
    const counters = Array.from({ length: 25_000 }, (_, i) => ({ event: 'pageview', dimension: 'page' as const, value: `/p/${i}`, count: 1n }));
    const before = fixture.server.queryLog.length;
    await warehouse.load(sampleBatch('b-chunks', { counters, visitors: [] }));
    const statements = fixture.server.queryLog.slice(before);
    expect(statements.filter((s) => s.startsWith('INSERT INTO rta_stage_event_counts'))).toHaveLength(3);
    expect(statements.length).toBeLessThanOrEqual(9);
    expect(await footprint(warehouse, 'b-chunks')).toMatchObject({ counterRows: 25_000, total: 25_000, ledger: 1 });
  });

  const transient: Array<[string, () => void]> = [
    ['the connection drops after the move ran', () => fixture.server.faults.inject({ action: { kind: 'drop', when: 'after' }, match: /^INSERT INTO event_counts/ })],
    ['the connection drops before the ledger MERGE', () => fixture.server.faults.inject({ action: { kind: 'drop', when: 'before' }, match: /^MERGE INTO load_batches/ })],
    ['the session token expires mid-load', () => fixture.server.faults.inject({ action: { kind: 'expire-token' }, match: /^INSERT INTO unique_visitors/ })],
    ['the session vanishes mid-load (390111)', () => fixture.server.faults.inject({ action: { kind: 'fail', code: '390111', message: 'Session no longer exists.' }, match: /^INSERT INTO unique_visitors/ })],
  ];
  for (const [what, inject] of transient) {
    it(`retries when ${what}, counting once`, async () => {
      const id = `b-${what.replace(/\W+/g, '-')}`;
      inject();
      expect(await warehouse.load(sampleBatch(id))).toMatchObject({ status: 'loaded' });
      expect(await footprint(warehouse, id)).toEqual(LOADED);
      expect((await warehouse.load(sampleBatch(id))).status).toBe('already-loaded');
    });
  }

  it('a failed statement mid-load leaves nothing behind, and the retry loads', async () => {
    fixture.server.faults.failNthQuery(1, { match: /^INSERT INTO unique_visitors/, code: '000603', message: 'injected internal error' });
    await expect(warehouse.load(sampleBatch('b-failed'))).rejects.toMatchObject({ code: 'WAREHOUSE_LOAD', batchId: 'b-failed' });
    expect(await footprint(warehouse, 'b-failed')).toEqual(NOTHING);
    expect(await warehouse.load(sampleBatch('b-failed'))).toMatchObject({ status: 'loaded' });
    expect(await footprint(warehouse, 'b-failed')).toEqual(LOADED);
  });

  it('keeps every request within maxBindBytes and never lets the driver stage the binds', async () => {
    const refused = fixture.server.stats.refusedStageBindings;
    // 20,000 rows x 5 columns = 100,000 bound values per round trip, above the 65,280 at which
    // the driver would stage them (which needs CREATE STAGE); 60 KB paths make the bytes the limit.
    const big = createSnowflakeWarehouse({ ...fixture.options, chunkRows: 20_000 });
    try {
      const counters = Array.from({ length: 20_000 }, (_, i) => ({ event: 'pageview', dimension: 'page' as const, value: `/p/${i}`, count: 1n }));
      const wide = Array.from({ length: 40 }, (_, i) => ({ event: 'pageview', dimension: 'page' as const, value: `/w/${i}/${'x'.repeat(60_000)}`, count: 2n }));
      expect(await big.load(sampleBatch('b-bytes', { counters: [...counters, ...wide], visitors: [] }))).toMatchObject({ status: 'loaded' });
    } finally {
      await big.close();
    }
    expect(fixture.server.stats.refusedStageBindings).toBe(refused);
    expect(fixture.server.stats.largestRequestBytes).toBeLessThanOrEqual(1_000_000);
    expect(await footprint(warehouse, 'b-bytes')).toMatchObject({ counterRows: 20_040, total: 20_080, ledger: 1 });
  });

  it('fails a statement that does not answer within the statement timeout, replaces the session, and loads on the next try', async () => {
    const impatient = createSnowflakeWarehouse({ ...fixture.options, statementTimeoutMs: 1_000 });
    const logins = fixture.server.stats.logins;
    try {
      await impatient.migrate();
      const hold = fixture.server.faults.hold(/^MERGE INTO load_batches/);
      const error = await impatient.load(sampleBatch('b-timeout')).catch((e: unknown) => e);
      hold.release();
      expect(error).toMatchObject({ code: 'WAREHOUSE_TIMEOUT', batchId: 'b-timeout', message: expect.stringMatching(/timed out after 1 s/) });
      expect(await impatient.load(sampleBatch('b-timeout'))).toMatchObject({ status: 'loaded' });
      expect(fixture.server.stats.logins).toBe(logins + 2); // the timed-out session was not reused
    } finally {
      await impatient.close();
    }
    await fixture.server.reapAbandonedSessions(0);
    expect(await footprint(warehouse, 'b-timeout')).toEqual(LOADED);
  });

  it('reuses one session across loads and ends it on close', async () => {
    const logins = fixture.server.stats.logins;
    await warehouse.load(sampleBatch('b-reuse-1'));
    await warehouse.load(sampleBatch('b-reuse-2'));
    expect(fixture.server.stats.logins).toBe(logins);
    const other = createSnowflakeWarehouse(fixture.options);
    await other.query('SELECT 1 AS x');
    const open = fixture.server.sessionCount();
    await other.close();
    expect(fixture.server.sessionCount()).toBe(open - 1);
  });
});

describe('snowflake adapter when the server runs a retried request again', () => {
  // Snowflake answers a retried requestId from its first execution; this server is told not to,
  // to show exactly-once does not depend on it.
  let fixture: SnowflakeFixture;
  let warehouse: Warehouse;

  beforeAll(async () => {
    fixture = await startSnowflakeFixture({ dedupeRetries: false });
    warehouse = createSnowflakeWarehouse(fixture.options);
    await warehouse.migrate();
  });
  afterAll(async () => {
    await warehouse?.close();
    await fixture?.stop();
  });

  const replays: Array<[string, RegExp]> = [
    ['ledger MERGE', /^MERGE INTO load_batches/],
    ['move into event_counts', /^INSERT INTO event_counts/],
    ['staging chunk', /^INSERT INTO rta_stage_event_counts/],
  ];
  for (const [what, match] of replays) {
    it(`a replayed ${what} is still counted once`, async () => {
      const id = `b-replay-${what.replace(/\W+/g, '-')}`;
      fixture.server.faults.inject({ action: { kind: 'drop', when: 'after' }, match });
      const before = fixture.server.queryLog.length;
      expect(await warehouse.load(sampleBatch(id))).toMatchObject({ status: 'loaded' });
      expect(fixture.server.queryLog.slice(before).filter((s) => match.test(s)).length).toBeGreaterThanOrEqual(2);
      expect(await footprint(warehouse, id)).toEqual(LOADED);
    });
  }
});
