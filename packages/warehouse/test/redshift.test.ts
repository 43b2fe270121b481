/**
 * The Redshift adapter through the Data API test server (PostgreSQL behind it, one fresh schema
 * per fixture): the shared behaviour suite, then what only this adapter has: chunked loads,
 * ClientToken retries, statement failures and timeouts, parameter and type mapping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CounterRow, MinuteBatch, Warehouse } from '../src/index.js';
import { createRedshiftWarehouse, redshiftDefaults, type RedshiftWarehouseOptions } from '../src/redshift/warehouse.js';
import { planLoad } from '../src/redshift/load-plan.js';
import { compileDataApiParams, sqlString } from '../src/redshift/sql-literals.js';
import { runNamedQuery } from '../src/index.js';
import { startRedshiftFixture, type RedshiftFixture } from '../../../test/support/redshift-fixture.js';
import { until } from '../../../test/support/wait.js';
import { run, sdkClient } from '../../../test/redshift-data-server/sdk-client.js';
import { describeWarehouseBehaviour, sampleBatch } from './behaviour.js';

describeWarehouseBehaviour('redshift', {
  async setup(hooks) {
    const fixture = await startRedshiftFixture();
    return { warehouse: createRedshiftWarehouse({ ...fixture.options, hooks }), cleanup: fixture.stop };
  },
});

/** A batch of `n` page counters (counts 1..7) and two visitor rows. */
function largeBatch(batchId: string, n: number): MinuteBatch {
  const counters: CounterRow[] = Array.from({ length: n }, (_, i) => ({
    event: 'pageview',
    dimension: 'page',
    value: `/articles/${i}/a-reasonably-long-slug-${i % 97}`,
    count: BigInt(i % 7) + 1n,
  }));
  return sampleBatch(batchId, { minute: new Date('2026-03-01T12:00:00Z'), counters });
}
const expectedTotal = (n: number) => Array.from({ length: n }, (_, i) => (i % 7) + 1).reduce((a, b) => a + b, 0);

describe('redshift options', () => {
  const valid: RedshiftWarehouseOptions = { clusterIdentifier: 'prod-1', dbUser: 'loader', database: 'dev', region: 'eu-west-1' };
  it.each([
    [{ ...valid, workgroupName: 'wg-1' }, /only one of REDSHIFT_CLUSTER_ID .* REDSHIFT_WORKGROUP/],
    [{ ...valid, clusterIdentifier: undefined }, /REDSHIFT_CLUSTER_ID .* or REDSHIFT_WORKGROUP/],
    [{ ...valid, dbUser: undefined }, /REDSHIFT_SECRET_ARN \(secretArn\) or REDSHIFT_DB_USER/],
    [{ ...valid, clusterIdentifier: 'Prod_1' }, /REDSHIFT_CLUSTER_ID/],
    [{ ...valid, database: '' }, /REDSHIFT_DATABASE/],
    [{ ...valid, region: '' }, /AWS_REGION/],
    [{ ...valid, endpoint: 'not a url' }, /REDSHIFT_DATA_ENDPOINT/],
    [{ ...valid, secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' }, /only one of REDSHIFT_SECRET_ARN/],
    [{ database: 'dev', region: 'eu-west-1', workgroupName: 'wg-1', dbUser: 'x' }, /REDSHIFT_DB_USER \(dbUser\) applies to a cluster/],
  ])('refuses bad settings naming the variable (%#)', (options, message) => {
    expect(() => createRedshiftWarehouse(options as RedshiftWarehouseOptions)).toThrow(message);
    expect(() => createRedshiftWarehouse(options as RedshiftWarehouseOptions)).toThrow(expect.objectContaining({ code: 'WAREHOUSE_CONFIG' }));
  });
  it('accepts a workgroup with IAM only, or with a secret', async () => {
    await createRedshiftWarehouse({ workgroupName: 'wg-1', database: 'dev', region: 'eu-west-1' }).close();
    await createRedshiftWarehouse({ ...valid, dbUser: undefined, secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' }).close();
  });
});

describe('redshift load plan', () => {
  const limits = redshiftDefaults.chunking;
  it('splits a large batch into chunks within the Data API limits, whatever the row order', () => {
    const batch = largeBatch('plan', 45_000);
    const chunks = planLoad(batch, limits);
    expect(chunks.map((c) => c.ledgerId)).toEqual(['plan#1/3', 'plan#2/3', 'plan#3/3']);
    expect(chunks.reduce((n, c) => n + c.counterRows, 0)).toBe(45_000);
    expect(chunks.reduce((n, c) => n + c.visitorRows, 0)).toBe(2);
    for (const chunk of chunks) {
      expect(chunk.sqls.length).toBeLessThanOrEqual(40);
      expect(chunk.counterRows + chunk.visitorRows).toBeLessThanOrEqual(limits.maxRowsPerCall);
      for (const sql of chunk.sqls) expect(Buffer.byteLength(sql)).toBeLessThanOrEqual(limits.maxStatementBytes);
      expect(chunk.sqls[chunk.ledgerStatement]).toMatch(/^INSERT INTO load_batches /);
    }
    const shuffled = { ...batch, counters: [...batch.counters].reverse(), visitors: [...batch.visitors].reverse() };
    expect(planLoad(shuffled, limits)).toEqual(chunks);
  });
  it('writes literals that read the same on Redshift and PostgreSQL: no backslash inside quotes', () => {
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlString('a\\b\\')).toBe("('a'||chr(92)||'b'||chr(92)||'')");
    expect(() => sqlString('nul\0')).toThrow(/NUL/);
  });
  it('binds query parameters, turning the values the Data API refuses into constants', () => {
    expect(compileDataApiParams("SELECT :a, :b, :c, ':a', x::int", { a: '', b: null, c: 3 })).toEqual({
      sql: "SELECT '', NULL, :c, ':a', x::int",
      parameters: [{ name: 'c', value: '3' }],
    });
  });
  it('keeps a small batch in one chunk under its own id', () => {
    expect(planLoad(sampleBatch('small'), limits).map((c) => c.ledgerId)).toEqual(['small']);
  });
});

describe('redshift adapter through the Data API test server', () => {
  let fixture: RedshiftFixture;
  let warehouse: Warehouse;
  const totals = async (batchId: string) => {
    const [row] = await warehouse.query('SELECT count(*) AS n, coalesce(sum(count), 0) AS total FROM event_counts WHERE batch_id = :id', { id: batchId });
    return row;
  };
  const ledger = async (prefix: string) =>
    (await warehouse.query('SELECT batch_id FROM load_batches WHERE left(batch_id, :len) = :prefix ORDER BY batch_id', { prefix, len: [...prefix].length })).map(
      (r) => r.batch_id,
    );

  /** SQL straight through the Data API as `dbUser`, outside the adapter. */
  const runSql = async (dbUser: string, sql: string) => {
    const client = sdkClient(fixture);
    try {
      expect((await run(client, sql, undefined, dbUser)).described.Status).toBe('FINISHED');
    } finally {
      client.destroy();
    }
  };

  beforeAll(async () => {
    fixture = await startRedshiftFixture({ pageRows: 1_000 });
    warehouse = createRedshiftWarehouse(fixture.options);
    await warehouse.migrate();
  });
  afterAll(async () => {
    await warehouse?.close();
    await fixture?.stop();
  });

  it('a failed statement leaves nothing, surfaces the SQL error, and a retry loads', async () => {
    fixture.server.faults.failStatement({ match: 'INSERT INTO load_batches', message: 'disk full' });
    await expect(warehouse.load(sampleBatch('f-1'))).rejects.toMatchObject({ code: 'WAREHOUSE_LOAD', batchId: 'f-1', message: expect.stringMatching(/FAILED: ERROR: disk full/) });
    expect(await totals('f-1')).toEqual({ n: 0, total: 0 });
    expect(await ledger('f-1')).toEqual([]);
    expect(await warehouse.load(sampleBatch('f-1'))).toEqual({ status: 'loaded', counterRows: 14, visitorRows: 2 });
    expect(await totals('f-1')).toEqual({ n: 14, total: 57 });
  });

  it.each(['drop-connection', 'http-500'] as const)('a lost answer (%s) is resubmitted with the same ClientToken and loads once', async (kind) => {
    const id = `t-${kind}`;
    const { statements, tokenReplays } = fixture.server.stats;
    fixture.server.faults.failRequest({ kind, operation: 'BatchExecuteStatement', when: 'after' });
    expect((await warehouse.load(sampleBatch(id))).status).toBe('loaded');
    expect(fixture.server.stats.tokenReplays).toBe(tokenReplays + 1);
    expect(fixture.server.stats.statements).toBe(statements + 2); // the ledger lookup and one load
    expect(await totals(id)).toEqual({ n: 14, total: 57 });
    expect((await warehouse.load(sampleBatch(id))).status).toBe('already-loaded');
  });

  it('retries throttling-like errors on every call', async () => {
    fixture.server.faults.failRequest({ kind: 'http-500', operation: 'DescribeStatement' });
    fixture.server.faults.failRequest({ kind: 'drop-connection', operation: 'GetStatementResult' });
    expect(await totals('f-1')).toEqual({ n: 14, total: 57 });
    expect(fixture.server.faults.pending).toBe(false);
  });

  it('loads a batch too large for one call as ledger-tracked chunks, exactly', async () => {
    const before = fixture.server.stats.requests.BatchExecuteStatement ?? 0;
    const result = await warehouse.load(largeBatch('big', 45_000));
    expect(result).toEqual({ status: 'loaded', counterRows: 45_000, visitorRows: 2 });
    expect((fixture.server.stats.requests.BatchExecuteStatement ?? 0) - before).toBe(3);
    expect(await ledger('big')).toEqual(['big#1/3', 'big#2/3', 'big#3/3']);
    expect(await totals('big')).toEqual({ n: 45_000, total: expectedTotal(45_000) });
    expect(await warehouse.load(largeBatch('big', 45_000))).toEqual({ status: 'already-loaded', counterRows: 0, visitorRows: 0 });
    const values = await warehouse.query("SELECT value FROM event_counts WHERE batch_id = 'big'");
    expect(values).toHaveLength(45_000); // 45 result pages
  });

  it('finishes a batch whose load crashed between chunks, without double counting', async () => {
    fixture.server.faults.failStatement({ match: "'crash#2/3'", message: 'node lost' });
    await expect(warehouse.load(largeBatch('crash', 45_000))).rejects.toMatchObject({
      code: 'WAREHOUSE_LOAD',
      batchId: 'crash',
      message: expect.stringMatching(/chunk 2 of 3.*node lost/),
    });
    expect(await ledger('crash')).toEqual(['crash#1/3']);
    const partial = (await totals('crash'))!;
    expect(partial.n).toBeGreaterThan(0);
    expect(partial.n).toBeLessThan(45_000);

    // Another process: its first try replays the failed statement (same ClientToken), the next one loads.
    const other = createRedshiftWarehouse(fixture.options);
    try {
      await expect(other.load(largeBatch('crash', 45_000))).rejects.toMatchObject({ code: 'WAREHOUSE_LOAD' });
      const finished = await other.load(largeBatch('crash', 45_000));
      expect(finished.status).toBe('loaded');
      expect(finished.counterRows).toBe(45_000 - Number(partial.n));
    } finally {
      await other.close();
    }
    expect(await ledger('crash')).toEqual(['crash#1/3', 'crash#2/3', 'crash#3/3']);
    expect(await totals('crash')).toEqual({ n: 45_000, total: expectedTotal(45_000) });
    expect((await warehouse.load(largeBatch('crash', 45_000))).status).toBe('already-loaded');
  });

  it('two processes loading the same batch at once count it once', async () => {
    const other = createRedshiftWarehouse(fixture.options);
    try {
      await Promise.all([warehouse.load(sampleBatch('twice')), other.load(sampleBatch('twice'))]);
    } finally {
      await other.close();
    }
    expect(await totals('twice')).toEqual({ n: 14, total: 57 });
  });

  it('cancels a statement past the statement timeout, reports it as WAREHOUSE_TIMEOUT, and a retry loads', async () => {
    const impatient = createRedshiftWarehouse({ ...fixture.options, statementTimeoutMs: 1_000 });
    // The load's first statement (the ledger lookup) stays SUBMITTED until released: only it meets the deadline.
    const hold = fixture.server.faults.holdStatements({ match: "batch_id = 'slow'" });
    try {
      const error = await impatient.load(sampleBatch('slow')).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'WAREHOUSE_TIMEOUT', batchId: 'slow', message: expect.stringMatching(/did not finish within 1000 ms/) });
      const statementId = /statement (\S+) did not finish/.exec((error as Error).message)![1]!;
      await until(() => fixture.server.statementStatus(statementId) === 'ABORTED', { what: 'the timed-out statement to be cancelled' });
    } finally {
      hold.release();
      await impatient.close();
    }
    expect((await warehouse.load(sampleBatch('slow'))).status).toBe('loaded');
    expect(await totals('slow')).toEqual({ n: 14, total: 57 });
  });

  it('retries a load that failed with error 1023 (serializable isolation violation)', async () => {
    fixture.server.faults.failStatement({
      match: /^LOCK load_batches[\s\S]*'serial'/,
      message: '1023 DETAIL: Serializable isolation violation on table - 100234, transactions forming the cycle are: 1, 2 (pid:3)',
    });
    expect(await warehouse.load(sampleBatch('serial'))).toEqual({ status: 'loaded', counterRows: 14, visitorRows: 2 });
    expect(await totals('serial')).toEqual({ n: 14, total: 57 });
    expect(fixture.server.faults.pending).toBe(false);
  });

  it('a second migration creates no function; a changed body is replaced by its owner, and another user is told what to do', async () => {
    const created = () => fixture.server.stats.sql.filter((sql) => /CREATE (OR REPLACE )?FUNCTION f_rta_hll_estimate/.test(sql)).length;
    const before = created();
    await warehouse.migrate();
    expect(created()).toBe(before);
    // An older body in place (created by the loader's user): the next migration replaces it.
    await runSql('rta_loader', 'CREATE OR REPLACE FUNCTION f_rta_hll_estimate(BIGINT, FLOAT8, INTEGER) RETURNS BIGINT IMMUTABLE AS $$ SELECT CAST(0 AS BIGINT) $$ LANGUAGE sql');
    await warehouse.migrate();
    expect(fixture.server.stats.sql.slice(-1)[0]).toMatch(/^CREATE OR REPLACE FUNCTION f_rta_hll_estimate/);
    const [row] = await warehouse.query('SELECT f_rta_hll_estimate(1, 0.5, 16384) AS n');
    expect(row!.n).toBeGreaterThan(0);
    // Another database user may run the migration as long as the body is unchanged…
    const other = createRedshiftWarehouse({ ...fixture.options, dbUser: 'another_loader' });
    try {
      await other.migrate();
      // …but cannot replace a changed body: the error says who can.
      await runSql('rta_loader', 'CREATE OR REPLACE FUNCTION f_rta_hll_estimate(BIGINT, FLOAT8, INTEGER) RETURNS BIGINT IMMUTABLE AS $$ SELECT CAST(1 AS BIGINT) $$ LANGUAGE sql');
      await expect(other.migrate()).rejects.toMatchObject({
        code: 'WAREHOUSE_MIGRATE',
        message: expect.stringMatching(/replacing it needs its owner or a superuser: .*_hll_estimate_udf\.sql.*must be owner of function/),
      });
    } finally {
      await other.close();
    }
    await warehouse.migrate(); // the owner can
  });

  it('writes LIMIT as a checked integer literal, never a parameter', async () => {
    const statement = compileDataApiParams('SELECT 1 LIMIT :limit OFFSET :skip', { limit: 10, skip: 0 });
    expect(statement).toEqual({ sql: 'SELECT 1 LIMIT 10 OFFSET 0' });
    expect(() => compileDataApiParams('SELECT 1 LIMIT :limit', { limit: '10; DROP TABLE x' })).toThrow(/LIMIT must be a whole number/);
    expect(() => compileDataApiParams('SELECT 1 LIMIT :limit', { limit: 1.5 })).toThrow(/LIMIT must be a whole number/);
    const rows = await runNamedQuery(warehouse, 'top-pages', { site: 'example.com', from: new Date('2026-03-01'), to: new Date('2026-03-02'), limit: 2 });
    expect(rows).toHaveLength(2);
  });

  it('binds empty, null and date parameters and loads counts above 2^53 exactly (read back as text)', async () => {
    const huge = 2n ** 53n + 1n;
    await warehouse.load(sampleBatch('huge', { counters: [{ event: 'pageview', dimension: 'total', value: '', count: huge }], visitors: [] }));
    const rows = await warehouse.query(
      'SELECT CAST(count AS VARCHAR(20)) AS count, minute, :nothing AS nothing, CAST(:at AS TIMESTAMP) AS at FROM event_counts WHERE batch_id = :id AND value = :empty',
      { id: 'huge', empty: '', nothing: null, at: new Date('2026-03-01T10:07:30.250Z') },
    );
    expect(rows).toEqual([{ count: '9007199254740993', minute: new Date('2026-03-01T10:07:00Z'), nothing: null, at: new Date('2026-03-01T10:07:30.250Z') }]);
    // The Data API sends a BIGINT as a JSON number: past 2^53 JavaScript rounds it.
    const [sum] = await warehouse.query("SELECT sum(count) AS s FROM event_counts WHERE batch_id = 'huge'");
    expect(sum).toEqual({ s: 9007199254740992 });
  });
});
