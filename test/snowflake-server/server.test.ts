/**
 * The Snowflake test server driven by the real snowflake-sdk: login, binds of every type, array
 * binds, result polling, token renewal, errors with their codes, transactions and sessions.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnowflakeServer, type SnowflakeTestServer } from './server.js';
import { connectDriver, loginError, type DriverClient } from './driver-client.js';
import { until } from '../support/wait.js';

describe('snowflake test server with snowflake-sdk', () => {
  let server: SnowflakeTestServer;
  let client: DriverClient;
  const dir = mkdtempSync(join(tmpdir(), 'rta-sf-server-'));
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const keyPath = join(dir, 'rsa_key.p8');
  writeFileSync(keyPath, keys.privateKey);

  beforeAll(async () => {
    server = await startSnowflakeServer({
      longQueryMs: 150,
      users: [
        { username: 'rta', password: 'rta-test-password' },
        { username: 'keyed', publicKeyPem: keys.publicKey },
      ],
    });
    client = await connectDriver(server);
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a wrong password with 390100 and accepts a key-pair JWT', async () => {
    const wrong = await loginError(server, { password: 'nope' });
    expect(String(wrong?.code)).toBe('390100');
    const keyed = await connectDriver(server, { username: 'keyed', password: undefined, authenticator: 'SNOWFLAKE_JWT', privateKeyPath: keyPath });
    expect((await keyed.exec('SELECT 1 AS one')).rows).toEqual([{ ONE: 1 }]);
    await keyed.close();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const otherPath = join(dir, 'other.p8');
    writeFileSync(otherPath, other.privateKey);
    const forged = await loginError(server, { username: 'keyed', password: undefined, authenticator: 'SNOWFLAKE_JWT', privateKeyPath: otherPath });
    expect(String(forged?.code)).toBe('390100');
  });

  it('binds scalars of every driver type and decodes every column type', async () => {
    const hostile = `it's "q" \\ $$x$$ ünï 😀`;
    const { rows, columns } = await client.exec('SELECT ? AS s, ? AS i, ? AS f, ? AS b, ? AS n, ? AS big', [hostile, 42, 1.25, true, null, '12345678901234567890']);
    expect(columns.map((c) => c.getType())).toEqual(['text', 'fixed', 'real', 'boolean', expect.any(String), 'text']);
    expect(rows).toEqual([{ S: hostile, I: 42, F: 1.25, B: true, N: null, BIG: '12345678901234567890' }]);

    await client.exec('CREATE TABLE typed (ts TIMESTAMP_NTZ, d DATE, bin BINARY, v VARIANT, amount NUMBER(38,2), huge NUMBER(38,0))');
    await client.exec("INSERT INTO typed VALUES (?, ?, TO_BINARY(?, 'HEX'), PARSE_JSON(?), ?, ?)", [
      '2026-03-01 10:07:00.123',
      '2022-01-08',
      '00FF48',
      JSON.stringify({ a: [1, 'x'] }),
      '12.50',
      '123456789012345678901234567890',
    ]);
    const typed = await client.exec('SELECT * FROM typed');
    expect(typed.columns.map((c) => c.getType())).toEqual(['timestamp_ntz', 'date', 'binary', 'variant', 'fixed', 'fixed']);
    const [row] = typed.rows as Array<Record<string, unknown>>;
    expect((row!.TS as Date).getTime()).toBe(Date.UTC(2026, 2, 1, 10, 7, 0, 123));
    expect((row!.D as Date).getTime()).toBe(Date.UTC(2022, 0, 8));
    expect(Buffer.from(row!.BIN as Uint8Array)).toEqual(Buffer.from([0, 255, 72]));
    expect(row!.V).toEqual({ a: [1, 'x'] });
    expect(row!.AMOUNT).toBe(12.5);
    expect(typed.columns[4]!.getScale()).toBe(2);
  });

  it('runs an array bind of 10,000 rows as one request with the summed row count', async () => {
    await client.exec('CREATE TABLE many (id NUMBER(38,0), label VARCHAR, seen_at TIMESTAMP_NTZ)');
    const rows = Array.from({ length: 10_000 }, (_, i) => [i, `row '${i}'`, '2026-03-01 10:07:00']);
    const before = server.queryLog.length;
    const result = await client.exec('INSERT INTO many (id, label, seen_at) VALUES (?, ?, ?)', rows);
    expect(server.queryLog.length - before).toBe(1);
    expect(result.updated).toBe(10_000);
    const check = await client.exec('SELECT count(*) AS n, sum(id) AS total, max(label) AS last FROM many');
    expect(check.rows).toEqual([{ N: 10_000, TOTAL: 49_995_000, LAST: "row '9999'" }]);
  });

  it('runs the documented INSERT … SELECT … FROM VALUES array bind, functions in the SELECT list', async () => {
    await client.exec('CREATE TABLE bins (id NUMBER(38,0), bin BINARY)');
    const result = await client.exec("INSERT INTO bins (id, bin) SELECT column1, TO_BINARY(column2, 'HEX') FROM VALUES (?, ?)", [
      [1, '00ff'],
      [2, 'abcd'],
    ]);
    expect(result.updated).toBe(2);
    const rows = (await client.exec('SELECT id, bin FROM bins ORDER BY id')).rows as Array<{ ID: number; BIN: Uint8Array }>;
    expect(rows.map((r) => [r.ID, Buffer.from(r.BIN).toString('hex')])).toEqual([[1, '00ff'], [2, 'abcd']]);
  });

  it('refuses array binds Snowflake does not document: a function around a placeholder in VALUES, or UPDATE', async () => {
    const inValues = await client.fail("INSERT INTO bins (id, bin) VALUES (?, TO_BINARY(?, 'HEX'))", [[3, '00'], [4, '01']]);
    expect([String(inValues.code), inValues.message]).toEqual(['002049', expect.stringMatching(/array binds are documented for INSERT/)]);
    const update = await client.fail('UPDATE many SET label = ? WHERE id = ?', [['a', 1], ['b', 2], ['c', 3]]);
    expect(String(update.code)).toBe('002049');
    expect((await client.exec('SELECT count(*) AS n FROM bins')).rows).toEqual([{ N: 2 }]);
  });

  it('refuses a request over 1 MB of SQL text and bound values', async () => {
    const literal = await client.fail(`SELECT '${'x'.repeat(1_000_001)}' AS big`);
    expect([String(literal.code), literal.message]).toEqual(['000900', expect.stringMatching(/advises at most 1000000/)]);
    const rows = Array.from({ length: 12_000 }, (_, i) => [i, 'y'.repeat(80), '2026-03-01 10:07:00']);
    const bound = await client.fail('INSERT INTO many (id, label, seen_at) VALUES (?, ?, ?)', rows);
    expect(String(bound.code)).toBe('000900');
    expect((await client.exec('SELECT count(*) AS n FROM many WHERE id < 12000 AND label = ?', ['y'.repeat(80)])).rows).toEqual([{ N: 0 }]);
  });

  it('refuses the stage binding the driver attempts above CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', async () => {
    const refused = server.stats.refusedStageBindings;
    // 22,000 rows x 3 = 66,000 bound values, above the 65,280 the server sends at login.
    const rows = Array.from({ length: 22_000 }, (_, i) => [100_000 + i, 's', '2026-03-01 10:07:00']);
    const inline = await client.exec('INSERT INTO many (id, label, seen_at) VALUES (?, ?, ?)', rows); // the driver falls back to inline binds
    expect(inline.updated).toBe(22_000);
    expect(server.stats.refusedStageBindings).toBeGreaterThan(refused);
  });

  it('does not enforce PRIMARY KEY or UNIQUE, as Snowflake does not', async () => {
    await client.exec('CREATE TABLE keyed (id VARCHAR NOT NULL PRIMARY KEY, u NUMBER(38,0) UNIQUE)');
    await client.exec("INSERT INTO keyed VALUES ('a', 1)");
    await client.exec("INSERT INTO keyed VALUES ('a', 1)");
    expect((await client.exec('SELECT count(*) AS n FROM keyed')).rows).toEqual([{ N: 2 }]);
  });

  it('refuses HLL_IMPORT of a VARIANT; an OBJECT cast is accepted', async () => {
    const sketch = JSON.stringify({ version: 4, precision: 12, sparse: { indices: [1, 7], maxLzCounts: [2, 3] } });
    const variant = await client.fail('SELECT HLL_ESTIMATE(HLL_IMPORT(PARSE_JSON(?))) AS n', [sketch]);
    expect([String(variant.code), variant.message]).toEqual(['001044', expect.stringMatching(/Invalid argument types for function 'HLL_IMPORT'/)]);
    expect((await client.exec('SELECT HLL_ESTIMATE(HLL_IMPORT(CAST(PARSE_JSON(?) AS OBJECT))) AS n', [sketch])).rows).toEqual([{ N: 2 }]);
    expect((await client.exec('SELECT HLL_ESTIMATE(HLL_IMPORT(PARSE_JSON(?)::OBJECT)) AS n', [sketch])).rows).toEqual([{ N: 2 }]);
  });

  it("makes a MERGE wait for another session's MERGE on the same table, then see its committed row", async () => {
    await client.exec('CREATE TABLE ledger (id VARCHAR NOT NULL PRIMARY KEY)');
    const merge = "MERGE INTO ledger AS t USING (SELECT ? AS id) AS s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)";
    const other = await connectDriver(server);
    try {
      await client.exec('BEGIN');
      expect((await client.exec(merge, ['batch-1'])).updated).toBe(1);
      await other.exec('BEGIN');
      const waiting = other.exec(merge, ['batch-1']); // blocked on the table lock until the first session commits
      await until(() => server.lockWaits() === 1);
      await client.exec('COMMIT');
      // Without the wait DuckDB would let it insert a duplicate (no key is enforced).
      expect((await waiting).updated).toBe(0);
      await other.exec('COMMIT');
      expect((await client.exec('SELECT count(*) AS n FROM ledger')).rows).toEqual([{ N: 1 }]);
    } finally {
      await other.close();
    }
  });

  it('fails a MERGE that waited longer than the session LOCK_TIMEOUT with 000625', async () => {
    const merge = "MERGE INTO ledger AS t USING (SELECT ? AS id) AS s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)";
    const other = await connectDriver(server);
    try {
      await client.exec('BEGIN');
      await client.exec(merge, ['batch-2']);
      await other.exec('ALTER SESSION SET LOCK_TIMEOUT = 1');
      const timedOut = await other.fail(merge, ['batch-2']);
      expect([String(timedOut.code), timedOut.message]).toEqual(['000625', expect.stringMatching(/LOCK_TIMEOUT/)]);
      await client.exec('COMMIT');
      expect((await other.exec(merge, ['batch-2'])).updated).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('answers a query that outlasts longQueryMs with 333333 and the driver polls for it', async () => {
    const polls = server.stats.resultPolls;
    server.faults.inject({ action: { kind: 'delay', ms: 400 }, match: /slow/ });
    const { rows } = await client.exec("SELECT 'slow' AS what");
    expect(rows).toEqual([{ WHAT: 'slow' }]);
    expect(server.stats.resultPolls - polls).toBeGreaterThanOrEqual(1);
  });

  it('makes the driver renew an expired session token and carry on', async () => {
    const renewals = server.stats.renewals;
    server.faults.expireSessionTokens();
    expect((await client.exec('SELECT 2 AS two')).rows).toEqual([{ TWO: 2 }]);
    expect(server.stats.renewals - renewals).toBe(1);
  });

  it('delivers every error to the driver with its code and SQLSTATE', async () => {
    const syntax = await client.fail('SELEC 1');
    expect([String(syntax.code), syntax.sqlState]).toEqual(['001003', '42000']);
    const missing = await client.fail('SELECT * FROM no_such_table');
    expect([String(missing.code), missing.sqlState]).toEqual(['002003', '42S02']);
    const column = await client.fail('SELECT no_such_column FROM many');
    expect(String(column.code)).toBe('000904');
    await client.exec('CREATE TABLE strict (n NUMBER(38,0) NOT NULL)');
    const notNull = await client.fail('INSERT INTO strict (n) VALUES (?)', [null]);
    expect([String(notNull.code), notNull.sqlState]).toEqual(['100072', '22000']);
    const conversion = await client.fail('INSERT INTO strict (n) VALUES (?)', ['not a number']);
    expect([String(conversion.code), conversion.sqlState]).toEqual(['100038', '22018']);
    server.faults.failNthQuery(2, { code: '000630', sqlState: '57014', message: 'Statement reached its statement or warehouse timeout' });
    await client.exec('SELECT 1 AS first');
    const injected = await client.fail('SELECT 1 AS second');
    expect([String(injected.code), injected.sqlState, injected.message]).toEqual(['000630', '57014', 'Statement reached its statement or warehouse timeout']);
  });

  it('keeps Snowflake transaction semantics: implicit commit on DDL, lone COMMIT succeeds', async () => {
    await client.exec('COMMIT');
    await client.exec('CREATE TABLE tx (n NUMBER(38,0))');
    await client.exec('BEGIN');
    await client.exec('INSERT INTO tx VALUES (1)');
    await client.exec('CREATE TEMPORARY TABLE IF NOT EXISTS tmp (n NUMBER(38,0))'); // commits the insert
    await client.exec('INSERT INTO tx VALUES (2)');
    await client.exec('ROLLBACK'); // nothing open: the second insert autocommitted
    expect((await client.exec('SELECT count(*) AS n FROM tx')).rows).toEqual([{ N: 2 }]);
  });

  it('answers a retried request (same requestId) without running it twice', async () => {
    await client.exec('CREATE TABLE once (n NUMBER(38,0))');
    server.faults.inject({ action: { kind: 'drop', when: 'after' }, match: /INSERT INTO once/ });
    const before = server.queryLog.length;
    const result = await client.exec('INSERT INTO once VALUES (1)');
    expect(result.updated).toBe(1);
    expect(server.queryLog.length - before).toBe(1);
    expect((await client.exec('SELECT count(*) AS n FROM once')).rows).toEqual([{ N: 1 }]);
  });

  it('rolls back the transaction of a deleted or abandoned session', async () => {
    const other = await connectDriver(server);
    await other.exec('BEGIN');
    await other.exec('INSERT INTO tx VALUES (3)');
    await other.close(); // session delete
    const killed = await connectDriver(server);
    await killed.exec('BEGIN');
    await killed.exec('INSERT INTO tx VALUES (4)');
    // A SIGKILLed client sends nothing more: its session is reaped once idle.
    // Meanwhile another session is not blocked by the open transaction.
    await client.exec('INSERT INTO tx VALUES (5)');
    expect(await server.reapAbandonedSessions(0)).toBe(1);
    expect((await client.exec('SELECT count(*) AS n FROM tx')).rows).toEqual([{ N: 3 }]);
    const gone = await killed.fail('SELECT 1 AS x');
    // The driver turns 390111 into its own "connection is disconnected" error (407002).
    expect(String(gone.code)).toMatch(/^(390111|407002)$/);
  });
});
