/**
 * One Snowflake session = one DuckDB connection, so transactions and temporary tables are per
 * session as in Snowflake. Statements of a session run one at a time, in arrival order.
 *
 * Snowflake transaction semantics emulated here (DuckDB differs on each):
 * - DDL inside an open transaction first commits it (Snowflake's implicit commit).
 * - COMMIT or ROLLBACK without an open transaction succeeds and does nothing.
 * - BEGIN inside an open transaction is ignored.
 * - An array bind is one statement: all its rows or none.
 * - UPDATE, DELETE and MERGE lock their table until the transaction ends (locks.ts), waiting
 *   up to the session's LOCK_TIMEOUT (`ALTER SESSION SET LOCK_TIMEOUT = n`, default 43,200 s).
 * - A statement sees what was committed before it started (READ COMMITTED), at least for the
 *   first statement of a transaction: the DuckDB transaction (snapshot isolation) starts with
 *   that statement, after its lock wait, not at BEGIN. So a MERGE that waited for another
 *   session's MERGE sees that session's committed rows, as in Snowflake.
 * - What Snowflake refuses is refused (rules.ts): array binds outside the documented INSERT
 *   shapes, HLL_IMPORT of anything but an OBJECT.
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import {
  arrayBindRowCount,
  bindColumns,
  bindRow,
  BindError,
  isArrayBind,
  orderedBindings,
  type WireBindings,
} from './binds.js';
import { dmlResult, encodeResult, statusResult, type EncodedResult } from './encode.js';
import { lockedTable, LockTimeout, type TableLocks } from './locks.js';
import { checkArrayBind, checkHllImport, RuleViolation } from './rules.js';
import { classifyStatement, parseArrayBindInsert, translateSql, type StatementKind } from './translate.js';

/** Snowflake statement type ids the driver inspects (reference §2.4). */
const STATEMENT_TYPE: Record<StatementKind, number> = {
  select: 0x1000,
  insert: 0x3100,
  update: 0x3200,
  delete: 0x3300,
  merge: 0x3400,
  ddl: 0x6000,
  begin: 0x5000,
  commit: 0x5000,
  rollback: 0x5000,
  other: 0x1000,
};

const DML_COLUMN: Partial<Record<StatementKind, string>> = {
  insert: 'number of rows inserted',
  update: 'number of rows updated',
  delete: 'number of rows deleted',
};

export interface StatementResult extends EncodedResult {
  statementTypeId: number;
}

/** A failure with the Snowflake error code and SQLSTATE the driver reports (`err.code`, `err.sqlState`). */
export class SqlError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * DuckDB error classes → Snowflake-style codes. Codes resemble Snowflake's (001003 syntax,
 * 000904 invalid identifier, 002003 missing object, 100072 NOT NULL, 100038 conversion,
 * 000603 internal); what is contractual for the tests is that an error reaches the driver as
 * `success:false` with a `code` and `sqlState`, not the exact numbers.
 */
export function toSqlError(error: unknown): SqlError {
  if (error instanceof SqlError) return error;
  if (error instanceof RuleViolation) return new SqlError(error.code, error.sqlState, error.message);
  if (error instanceof LockTimeout) return new SqlError('000625', '57014', error.message);
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n')[0] ?? message;
  if (error instanceof BindError) return new SqlError('002049', '22000', `SQL compilation error: ${first}`);
  if (/^Parser Error/.test(first)) return new SqlError('001003', '42000', `SQL compilation error: ${first}`);
  if (/^Catalog Error/.test(first)) return new SqlError('002003', '42S02', `SQL compilation error: ${first}`);
  if (/^Binder Error/.test(first)) return new SqlError('000904', '42000', `SQL compilation error: ${first}`);
  if (/^Constraint Error/.test(first)) return new SqlError('100072', '22000', first);
  if (/^(Conversion|Invalid Input) Error/.test(first)) return new SqlError('100038', '22018', first);
  if (/^TransactionContext Error/.test(first)) return new SqlError('000625', '57014', first);
  return new SqlError('000603', 'XX000', `SQL execution internal error: ${first}`);
}

export interface SessionInfo {
  id: number;
  username: string;
  database: string;
  schema: string;
  warehouse: string;
  role: string;
}

export class Session {
  token: string;
  masterToken: string;
  tokenExpiresAt: number;
  masterExpiresAt: number;
  /** Last time a request of this session arrived or finished, ms since the epoch. */
  lastActivity = Date.now();
  /** Snowflake's view: BEGIN ran and no COMMIT/ROLLBACK yet. */
  inTransaction = false;
  /** DuckDB's: its transaction starts with the first statement after BEGIN. */
  private duckTransaction = false;
  /** LOCK_TIMEOUT of this session, milliseconds (Snowflake's default is 12 hours). */
  private lockTimeoutMs = 43_200_000;
  /** Statements queued or running; a session with work in flight is never reaped. */
  pending = 0;
  /** Responses by requestId, so a retried request is answered without running twice. */
  readonly responses = new Map<string, Promise<unknown>>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly info: SessionInfo,
    private readonly connection: DuckDBConnection,
    tokens: { token: string; masterToken: string; tokenExpiresAt: number; masterExpiresAt: number },
    private readonly locks: TableLocks,
  ) {
    this.token = tokens.token;
    this.masterToken = tokens.masterToken;
    this.tokenExpiresAt = tokens.tokenExpiresAt;
    this.masterExpiresAt = tokens.masterExpiresAt;
  }

  /** Runs one statement after the ones before it. */
  execute(sql: string, bindings: WireBindings | undefined): Promise<StatementResult> {
    this.pending++;
    const run = this.tail.then(() => this.run(sql, bindings));
    this.tail = run.catch(() => undefined);
    return run.finally(() => {
      this.pending--;
      this.lastActivity = Date.now();
    });
  }

  /** Rolls back an open transaction and closes the connection; later requests get 390111. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.locks.releaseAll(this); // stops a lock wait of this session too
    await this.tail;
    if (this.duckTransaction) await this.connection.run('ROLLBACK').catch(() => undefined);
    this.endTransaction();
    this.connection.closeSync();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async run(sql: string, wireBindings: WireBindings | undefined): Promise<StatementResult> {
    if (this.closed) throw new SqlError('390111', '08003', 'Session no longer exists.');
    const lockTimeout = /^\s*ALTER\s+SESSION\s+SET\b[\s\S]*\bLOCK_TIMEOUT\s*=\s*(\d+)/i.exec(sql);
    if (lockTimeout) this.lockTimeoutMs = Number(lockTimeout[1]) * 1_000;
    // Other session parameters (STATEMENT_TIMEOUT_IN_SECONDS, QUERY_TAG…) have no DuckDB counterpart: accepted, ignored.
    if (/^\s*ALTER\s+SESSION\b/i.test(sql)) {
      return { statementTypeId: 0x4000, ...statusResult('Statement executed successfully.') };
    }
    const kind = classifyStatement(sql);
    const statementTypeId = STATEMENT_TYPE[kind];
    try {
      switch (kind) {
        case 'begin':
          this.inTransaction = true;
          return { statementTypeId, ...statusResult('Statement executed successfully.') };
        case 'commit':
        case 'rollback':
          if (this.duckTransaction) {
            this.duckTransaction = false; // a failed COMMIT in DuckDB ends the transaction too
            try {
              await this.connection.run(kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
            } finally {
              this.endTransaction();
            }
          }
          this.endTransaction();
          return { statementTypeId, ...statusResult('Statement executed successfully.') };
        case 'ddl':
          if (this.duckTransaction) {
            this.duckTransaction = false;
            await this.connection.run('COMMIT');
          }
          this.endTransaction();
          break;
      }
      checkHllImport(sql);
      const bindings = orderedBindings(wireBindings);
      const arrayBind = isArrayBind(bindings);
      if (arrayBind) checkArrayBind(sql);
      const table = lockedTable(sql);
      if (table) await this.locks.acquire(table, this, this.lockTimeoutMs);
      try {
        if (this.inTransaction && !this.duckTransaction) {
          await this.connection.run('BEGIN TRANSACTION');
          this.duckTransaction = true;
        }
        const result = arrayBind ? await this.runArrayBind(sql, kind, bindings) : await this.runOnce(translateSql(sql), kind, bindings);
        return { statementTypeId, ...result };
      } finally {
        if (table && !this.inTransaction) this.locks.releaseAll(this);
      }
    } catch (error) {
      throw toSqlError(error);
    }
  }

  private endTransaction(): void {
    this.inTransaction = false;
    this.locks.releaseAll(this);
  }

  private async runOnce(sql: string, kind: StatementKind, bindings: ReturnType<typeof orderedBindings>): Promise<EncodedResult> {
    const prepared = await this.connection.prepare(sql);
    try {
      bindRow(prepared, bindings);
      const reader = await prepared.runAndReadAll();
      if (kind === 'ddl') return statusResult('Statement executed successfully.');
      // DuckDB reports one total for MERGE; the loader's MERGE only inserts, so it is reported as inserted.
      if (kind === 'merge') return dmlResult([['number of rows inserted', reader.rowsChanged], ['number of rows updated', 0]]);
      const column = DML_COLUMN[kind];
      if (column) return dmlResult([[column, reader.rowsChanged]]);
      return encodeResult(reader);
    } finally {
      prepared.destroySync();
    }
  }

  /**
   * An array bind, in a documented INSERT shape (checked by the caller): runs as one
   * `INSERT … SELECT … FROM (SELECT unnest($1) AS column1, …)` (10,000 rows in milliseconds).
   */
  private async runArrayBind(sql: string, kind: StatementKind, bindings: ReturnType<typeof orderedBindings>): Promise<EncodedResult> {
    arrayBindRowCount(bindings);
    const insert = parseArrayBindInsert(sql)!;
    if (insert.bindCount !== bindings.length) throw new BindError(`the statement has ${insert.bindCount} bind variables, ${bindings.length} were bound`);
    const own = !this.inTransaction;
    if (own) await this.connection.run('BEGIN TRANSACTION');
    let prepared: DuckDBPreparedStatement | undefined;
    try {
      const columns = bindings.map((_b, i) => `unnest($${i + 1}) AS column${i + 1}`).join(', ');
      prepared = await this.connection.prepare(
        translateSql(`INSERT INTO ${insert.target} SELECT ${insert.projection} FROM (SELECT ${columns})`),
      );
      bindColumns(prepared, bindings);
      const changed = (await prepared.run()).rowsChanged;
      if (own) await this.connection.run('COMMIT');
      return dmlResult([[DML_COLUMN[kind] ?? 'number of rows inserted', changed]]);
    } catch (error) {
      if (own) await this.connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      prepared?.destroySync();
    }
  }
}
