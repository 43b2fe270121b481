/**
 * Where the Data API test server behaves as Redshift rather than as the PostgreSQL under it,
 * through the real SDK: SQL Redshift refuses fails, isolation is SERIALIZABLE with Redshift's
 * error 1023, keys are not enforced, SUM is typed as Redshift types it, BIGINTs are JSON
 * numbers, ClientTokens expire after 8 hours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  BatchExecuteStatementCommand,
  GetStatementResultCommand,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { startRedshiftFixture, type RedshiftFixture } from '../support/redshift-fixture.js';
import { until } from '../support/wait.js';
import { CLIENT_TOKEN_TTL_MS } from './server.js';
import { pgSession, run, sdkClient, settle, target } from './sdk-client.js';

describe('Redshift Data API test server: Redshift, not PostgreSQL', () => {
  let fixture: RedshiftFixture;
  let client: RedshiftDataClient;
  let now = Date.now();

  const settleId = (id: string) => settle(client, id);
  const runSql = (sql: string, parameters?: { name: string; value: string }[]) => run(client, sql, parameters);
  const records = async (id: string) => (await client.send(new GetStatementResultCommand({ Id: id })));

  beforeAll(async () => {
    fixture = await startRedshiftFixture({ now: () => now });
    client = sdkClient(fixture);
    await runSql('CREATE TABLE rules_t (k INT, v BIGINT, name VARCHAR(20))');
    await runSql("INSERT INTO rules_t VALUES (1, 9007199254740000, 'a'), (2, 1000, 'b')");
  });
  afterAll(async () => {
    client?.destroy();
    await fixture?.stop();
  });

  it.each([
    ['a parameter in LIMIT', 'SELECT k FROM rules_t ORDER BY k LIMIT :n', [{ name: 'n', value: '1' }], /Data API parameters stand for values, not for LIMIT/],
    ['a parameter as a table name', 'SELECT * FROM :t', [{ name: 't', value: 'rules_t' }], /not for FROM/],
    ['INSERT … ON CONFLICT', "INSERT INTO rules_t VALUES (3, 3, 'c') ON CONFLICT DO NOTHING", undefined, /ON CONFLICT/],
    ['RETURNING', "INSERT INTO rules_t VALUES (3, 3, 'c') RETURNING k", undefined, /RETURNING/],
    ['an array literal', 'SELECT ARRAY[1, 2] AS a', undefined, /arrays are not supported/],
    ['an array type', "SELECT CAST('{1}' AS INT[]) AS a", undefined, /arrays are not supported/],
    ['unnest', "SELECT unnest(CAST('{1,2}' AS TEXT)) AS a", undefined, /function unnest does not exist on Redshift/],
    ['generate_series over a table', 'SELECT k, g FROM rules_t CROSS JOIN generate_series(1, 3) AS g', undefined, /not supported on Redshift tables/],
    ['string_agg', "SELECT string_agg(name, ',') AS s FROM rules_t", undefined, /function string_agg does not exist on Redshift/],
    ['jsonb', "SELECT jsonb_build_object('a', 1) AS j", undefined, /jsonb_build_object/],
    ['pg_sleep', 'SELECT pg_sleep(0)', undefined, /pg_sleep/],
    ['an aggregate FILTER', 'SELECT count(*) FILTER (WHERE k = 1) AS n FROM rules_t', undefined, /FILTER/],
    ['DISTINCT ON', 'SELECT DISTINCT ON (k) k FROM rules_t', undefined, /DISTINCT ON/],
  ])('fails %s as Redshift does', async (_what, sql, parameters, message) => {
    const { described } = await runSql(sql, parameters);
    expect(described.Status).toBe('FAILED');
    expect(described.Error).toMatch(message);
  });

  it('still runs generate_series alone (leader node) and parameters as values', async () => {
    const series = await runSql('SELECT g FROM generate_series(1, 3) AS g ORDER BY g');
    expect((await records(series.id)).Records).toEqual([[{ longValue: 1 }], [{ longValue: 2 }], [{ longValue: 3 }]]);
    const values = await runSql('SELECT name FROM rules_t WHERE k = CAST(:k AS INT) ORDER BY 1 LIMIT 5', [{ name: 'k', value: '2' }]);
    expect((await records(values.id)).Records).toEqual([[{ stringValue: 'b' }]]);
  });

  it('types SUM as Redshift does: BIGINT for integers (a long), DOUBLE PRECISION for floats, NUMERIC stays NUMERIC', async () => {
    const { id } = await runSql('SELECT sum(v) AS big, sum(k) AS small, sum(CAST(k AS REAL)) AS real_sum, sum(CAST(k AS NUMERIC(10,2))) AS dec, sum(CASE WHEN k > 5 THEN v END) AS none FROM rules_t');
    const result = await records(id);
    expect(result.ColumnMetadata!.map((c) => c.typeName)).toEqual(['int8', 'int8', 'float8', 'numeric', 'int8']);
    // 9007199254741000 is above 2^53: sent as a JSON number, as Redshift does, and rounded by JavaScript.
    expect(result.Records).toEqual([[{ longValue: 9007199254741000 }, { longValue: 3 }, { doubleValue: 3 }, { stringValue: '3.00' }, { isNull: true }]]);
  });

  it('does not enforce PRIMARY KEY or UNIQUE', async () => {
    await runSql('CREATE TABLE keyed_t (id VARCHAR(10) NOT NULL, u INT UNIQUE, PRIMARY KEY (id))');
    await runSql("INSERT INTO keyed_t VALUES ('x', 1)");
    expect((await runSql("INSERT INTO keyed_t VALUES ('x', 1)")).described.Status).toBe('FINISHED');
    const { id } = await runSql('SELECT count(*) AS n FROM keyed_t');
    expect((await records(id)).Records).toEqual([[{ longValue: 2 }]]);
  });

  it('runs SERIALIZABLE: a write skew fails the statement with Redshift error 1023', async () => {
    await runSql('CREATE TABLE skew_t (k INT)');
    await runSql('CREATE TABLE skew_gate (g INT)');
    const peer = await pgSession(fixture);
    const gate = await pgSession(fixture);
    try {
      await gate.query('BEGIN');
      await gate.query('LOCK TABLE skew_gate IN ACCESS EXCLUSIVE MODE');
      // The peer reads k = 1 and writes k = 2; the batch reads k = 2, waits at the gate, then writes k = 1.
      await peer.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await peer.query('SELECT count(*) FROM skew_t WHERE k = 1');
      await peer.query('INSERT INTO skew_t VALUES (2)');
      const { Id } = await client.send(
        new BatchExecuteStatementCommand({
          ...target,
          Sqls: ['SELECT count(*) FROM skew_t WHERE k = 2', 'LOCK skew_gate', 'INSERT INTO skew_t VALUES (1)'],
        }),
      );
      await until(async () => (await client.send(new DescribeStatementCommand({ Id: `${Id}:2` }))).Status === 'STARTED', {
        what: 'the batch to wait at the gate',
      });
      await peer.query('COMMIT');
      await gate.query('COMMIT');
      const failed = await settleId(Id!);
      expect(failed.Status).toBe('FAILED');
      expect(failed.Error).toMatch(/^ERROR: 1023 DETAIL: Serializable isolation violation/);
    } finally {
      await peer.end();
      await gate.end();
    }
    const { id } = await runSql('SELECT k FROM skew_t ORDER BY k');
    expect((await records(id)).Records).toEqual([[{ longValue: 2 }]]);
  });

  it('forgets a ClientToken after 8 hours: the same token then runs a new statement', async () => {
    await runSql('CREATE TABLE token_ttl_t (v INT)');
    const request = { ...target, Sql: 'INSERT INTO token_ttl_t VALUES (1)', ClientToken: 'ttl-token' };
    const first = await client.send(new ExecuteStatementCommand(request));
    await settleId(first.Id!);
    now += CLIENT_TOKEN_TTL_MS - 1;
    expect((await client.send(new ExecuteStatementCommand(request))).Id).toBe(first.Id);
    now += 2;
    const later = await client.send(new ExecuteStatementCommand(request));
    expect(later.Id).not.toBe(first.Id);
    await settleId(later.Id!);
    const { id } = await runSql('SELECT count(*) AS n FROM token_ttl_t');
    expect((await records(id)).Records).toEqual([[{ longValue: 2 }]]);
  });
});
