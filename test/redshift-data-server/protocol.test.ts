/**
 * The Data API test server driven by the real `@aws-sdk/client-redshift-data` client: every
 * operation, paging, statuses, ClientToken replays, fault injection, and each error arriving as
 * the SDK's own exception class.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActiveStatementsExceededException,
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  InternalServerException,
  RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { startRedshiftFixture, type RedshiftFixture } from '../support/redshift-fixture.js';
import { pgSession, run, sdkClient, settle, target } from './sdk-client.js';

const migrateSql = readFileSync(new URL('../../packages/warehouse/sql/redshift/_migrate.sql', import.meta.url), 'utf8');

describe('Redshift Data API test server', () => {
  let fixture: RedshiftFixture;
  let client: RedshiftDataClient;

  beforeAll(async () => {
    fixture = await startRedshiftFixture({ pageRows: 1_000 });
    client = sdkClient(fixture);
  });
  afterAll(async () => {
    client?.destroy();
    await fixture?.stop();
  });

  it('moves a statement SUBMITTED → STARTED → FINISHED and reports epoch timestamps', async () => {
    await run(client, 'CREATE TABLE gate_t (v INT)');
    // The test drives each step: a hold keeps the statement SUBMITTED, a PostgreSQL lock keeps it STARTED.
    const hold = fixture.server.faults.holdStatements({ match: 'FROM gate_t' });
    const locker = await pgSession(fixture);
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE gate_t IN ACCESS EXCLUSIVE MODE');
      const { Id, CreatedAt } = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT count(*) AS n FROM gate_t' }));
      expect(Id).toMatch(/^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}$/);
      expect(CreatedAt).toBeInstanceOf(Date);
      expect((await client.send(new DescribeStatementCommand({ Id }))).Status).toBe('SUBMITTED');
      hold.release();
      await settle(client, Id!, ['STARTED']);
      expect((await client.send(new DescribeStatementCommand({ Id }))).Status).toBe('STARTED');
      await locker.query('COMMIT');
      const described = await settle(client, Id!);
      expect(described).toMatchObject({ Status: 'FINISHED', HasResultSet: true, ResultRows: 1, ClusterIdentifier: 'rta-test', Database: 'dev' });
      expect(described.UpdatedAt!.getTime()).toBeGreaterThanOrEqual(described.CreatedAt!.getTime());
    } finally {
      hold.release();
      await locker.end();
    }
  });

  it('binds :name parameters outside literals and maps every Field member', async () => {
    const { id } = await run(
      client,
      `SELECT :n::int8 + 1 AS big, :word AS word, ':word' AS literal, 1.5::float8 AS dbl, true AS flag, NULL AS nothing,
              from_hex('00ff10') AS bytes, CAST('2026-03-01 10:07:00' AS TIMESTAMP) AS ts, 9007199254740993::int8 AS huge,
              CAST(9007199254740993 AS NUMERIC(20,0)) AS exact`,
      [
        { name: 'n', value: '41' },
        { name: 'word', value: "it's" },
      ],
    );
    const result = await client.send(new GetStatementResultCommand({ Id: id }));
    expect(result.TotalNumRows).toBe(1);
    expect(result.ColumnMetadata!.map((c) => [c.name, c.typeName])).toEqual([
      ['big', 'int8'],
      ['word', 'varchar'],
      ['literal', 'varchar'],
      ['dbl', 'float8'],
      ['flag', 'bool'],
      ['nothing', 'varchar'],
      ['bytes', 'varbyte'],
      ['ts', 'timestamp'],
      ['huge', 'int8'],
      ['exact', 'numeric'],
    ]);
    const [row] = result.Records!;
    expect(row).toEqual([
      { longValue: 42 },
      { stringValue: "it's" },
      { stringValue: ':word' },
      { doubleValue: 1.5 },
      { booleanValue: true },
      { isNull: true },
      { blobValue: new Uint8Array([0, 255, 16]) },
      { stringValue: '2026-03-01 10:07:00' },
      // A BIGINT is always a JSON number, as the Data API sends it: JavaScript rounds it past 2^53.
      { longValue: 9007199254740992 },
      { stringValue: '9007199254740993' },
    ]);
  });

  it('pages GetStatementResult with NextToken', async () => {
    const { id } = await run(client, 'SELECT g AS n FROM generate_series(1, 2500) AS g ORDER BY g');
    const pages: number[][] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new GetStatementResultCommand({ Id: id, ...(token ? { NextToken: token } : {}) }));
      expect(page.TotalNumRows).toBe(2500);
      pages.push(page.Records!.map((r) => r[0]!.longValue!));
      token = page.NextToken;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(pages.flat()).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it('runs the Redshift migration: DISTKEY/SORTKEY/DISTSTYLE stripped, VARBYTE as BYTEA', async () => {
    const Sqls = migrateSql.split(/;\s*\n/).map((s) => s.replace(/^\s*--.*$/gm, '').trim()).filter(Boolean);
    const { Id } = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls }));
    expect((await settle(client, Id!)).Status).toBe('FINISHED');
    const { id } = await run(client, "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'sketch'");
    expect((await client.send(new GetStatementResultCommand({ Id: id }))).Records).toEqual([[{ stringValue: 'bytea' }]]);
  });

  it('runs a batch as one transaction with :N sub-statements', async () => {
    await run(client, 'CREATE TABLE batch_t (v VARCHAR(10))');
    const ok = await client.send(
      new BatchExecuteStatementCommand({ ...target, Sqls: ["INSERT INTO batch_t VALUES ('a'),('b')", "INSERT INTO batch_t VALUES ('c')", 'SELECT count(*) AS n FROM batch_t'] }),
    );
    const done = await settle(client, ok.Id!);
    expect(done.Status).toBe('FINISHED');
    expect(done.SubStatements!.map((s) => [s.Id, s.Status, s.ResultRows])).toEqual([
      [`${ok.Id}:1`, 'FINISHED', 2],
      [`${ok.Id}:2`, 'FINISHED', 1],
      [`${ok.Id}:3`, 'FINISHED', 1],
    ]);
    expect((await client.send(new DescribeStatementCommand({ Id: `${ok.Id}:2` }))).QueryString).toBe("INSERT INTO batch_t VALUES ('c')");
    expect((await client.send(new GetStatementResultCommand({ Id: `${ok.Id}:3` }))).Records).toEqual([[{ longValue: 3 }]]);

    const bad = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: ["INSERT INTO batch_t VALUES ('d')", 'SELECT no_such_column FROM batch_t'] }));
    const failed = await settle(client, bad.Id!);
    expect(failed.Status).toBe('FAILED');
    expect(failed.Error).toMatch(/no_such_column/);
    expect(failed.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED']);
    const { id } = await run(client, 'SELECT count(*) AS n FROM batch_t');
    expect((await client.send(new GetStatementResultCommand({ Id: id }))).Records).toEqual([[{ longValue: 3 }]]);
  });

  it('answers a repeated ClientToken with the original statement, without running it again', async () => {
    await run(client, 'CREATE TABLE token_t (v INT)');
    const request = { ...target, Sql: 'INSERT INTO token_t VALUES (1)', ClientToken: 'token-1' };
    const first = await client.send(new ExecuteStatementCommand(request));
    const statements = fixture.server.stats.statements;
    const again = await client.send(new ExecuteStatementCommand(request));
    expect(again.Id).toBe(first.Id);
    expect(fixture.server.stats.statements).toBe(statements);
    await settle(client, first.Id!);
    const { id } = await run(client, 'SELECT count(*) AS n FROM token_t');
    expect((await client.send(new GetStatementResultCommand({ Id: id }))).Records).toEqual([[{ longValue: 1 }]]);
    await expect(client.send(new ExecuteStatementCommand({ ...request, Sql: 'SELECT 2' }))).rejects.toBeInstanceOf(ValidationException);
  });

  it('rejects what the real service rejects, with the SDK exception classes', async () => {
    const huge = `SELECT '${'x'.repeat(102_400)}'`;
    await expect(client.send(new ExecuteStatementCommand({ ...target, Sql: huge }))).rejects.toBeInstanceOf(ValidationException);
    const many = Array.from({ length: 41 }, () => 'SELECT 1');
    await expect(client.send(new BatchExecuteStatementCommand({ ...target, Sqls: many }))).rejects.toBeInstanceOf(ValidationException);
    const empty = { ...target, Sql: 'SELECT :v', Parameters: [{ name: 'v', value: '' }] };
    await expect(client.send(new ExecuteStatementCommand(empty))).rejects.toThrow(/empty value/);
    const unknown = '01234567-89ab-cdef-0123-456789abcdef';
    await expect(client.send(new DescribeStatementCommand({ Id: unknown }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new GetStatementResultCommand({ Id: unknown }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new CancelStatementCommand({ Id: unknown }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const { id } = await run(client, 'CREATE TABLE no_result_t (v INT)');
    await expect(client.send(new GetStatementResultCommand({ Id: id }))).rejects.toBeInstanceOf(ValidationException);
  });

  it('fails the Nth matching statement on demand, rolling it back', async () => {
    await run(client, 'CREATE TABLE fault_t (v INT)');
    fixture.server.faults.failStatement({ nth: 2, match: 'fault_t VALUES', message: 'disk full' });
    expect((await run(client, 'INSERT INTO fault_t VALUES (1)')).described.Status).toBe('FINISHED');
    const failed = (await run(client, 'INSERT INTO fault_t VALUES (2)')).described;
    expect(failed).toMatchObject({ Status: 'FAILED', Error: 'ERROR: disk full' });
    expect((await run(client, 'INSERT INTO fault_t VALUES (3)')).described.Status).toBe('FINISHED');
    const { id } = await run(client, 'SELECT sum(v) AS s FROM fault_t');
    expect((await client.send(new GetStatementResultCommand({ Id: id }))).Records).toEqual([[{ longValue: 4 }]]);
  });

  it('keeps a hung statement STARTED until CancelStatement aborts it', async () => {
    fixture.server.faults.hangStatement();
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT 1' }));
    expect((await client.send(new DescribeStatementCommand({ Id }))).Status).toBe('STARTED');
    expect((await client.send(new CancelStatementCommand({ Id }))).Status).toBe(true);
    expect((await client.send(new DescribeStatementCommand({ Id }))).Status).toBe('ABORTED');
    await expect(client.send(new CancelStatementCommand({ Id }))).rejects.toBeInstanceOf(ValidationException);
  });

  it('cancels a statement running in PostgreSQL', async () => {
    const locker = await pgSession(fixture);
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE gate_t IN ACCESS EXCLUSIVE MODE');
      const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT count(*) AS n FROM gate_t' }));
      await settle(client, Id!, ['STARTED']); // waiting in PostgreSQL for the lock, until cancelled
      await client.send(new CancelStatementCommand({ Id }));
      expect((await settle(client, Id!)).Status).toBe('ABORTED');
    } finally {
      await locker.end();
    }
  });

  it('injects 500s and dropped connections; a statement whose answer was lost still runs', async () => {
    fixture.server.faults.failRequest({ kind: 'http-500', operation: 'DescribeStatement' });
    await expect(client.send(new DescribeStatementCommand({ Id: 'x' }))).rejects.toBeInstanceOf(InternalServerException);
    await run(client, 'CREATE TABLE lost_t (v INT)');
    fixture.server.faults.failRequest({ kind: 'drop-connection', operation: 'ExecuteStatement', when: 'after' });
    const request = { ...target, Sql: 'INSERT INTO lost_t VALUES (7)', ClientToken: 'lost-answer' };
    await expect(client.send(new ExecuteStatementCommand(request))).rejects.toThrow();
    const retried = await client.send(new ExecuteStatementCommand(request)); // what an SDK retry sends
    expect(fixture.server.stats.tokenReplays).toBeGreaterThanOrEqual(1);
    await settle(client, retried.Id!);
    const { id } = await run(client, 'SELECT count(*) AS n FROM lost_t');
    expect((await client.send(new GetStatementResultCommand({ Id: id }))).Records).toEqual([[{ longValue: 1 }]]);
  });

  it('refuses statements past the active-statement cap', async () => {
    const capped = await startRedshiftFixture({ maxActiveStatements: 1 });
    const small = sdkClient(capped);
    try {
      capped.server.faults.hangStatement();
      const { Id } = await small.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT 1' }));
      await expect(small.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT 2' }))).rejects.toBeInstanceOf(
        ActiveStatementsExceededException,
      );
      await small.send(new CancelStatementCommand({ Id }));
      const next = await small.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT 3' }));
      expect((await settle(small, next.Id!)).Status).toBe('FINISHED');
    } finally {
      small.destroy();
      await capped.stop();
    }
  });
});
