/**
 * Statement lifecycle of the Data API test server: SUBMITTED (as long as a test's hold keeps
 * it there, see faults.ts), then STARTED while PostgreSQL runs it, then FINISHED, FAILED (with
 * `Error`) or ABORTED (cancelled). The work runs detached from the HTTP request that submitted
 * it: a client that vanishes (SIGKILL, dropped connection) changes nothing, exactly as with the
 * real service.
 *
 * A BatchExecuteStatement in TRANSACTION mode (the default) runs its statements between BEGIN
 * and COMMIT on one session: all or nothing. In AUTO_COMMIT mode each commits on its own.
 * Sessions run SERIALIZABLE, as Redshift; PostgreSQL's serialization failure is reported with
 * Redshift's text (`ERROR: 1023 DETAIL: Serializable isolation violation …`). SQL Redshift
 * refuses fails the statement (redshift-rules.ts).
 * ClientToken: a token seen before with the same request returns the original statement
 * without running anything; with a different request it is a ValidationException. A token is
 * remembered for `clientTokenTtlMs` (8 hours); after that the same token runs a new statement.
 * Functions belong to the database user who created them (DbUser, or the secret): replacing one
 * as another user fails as on Redshift ("must be owner of function"; a superuser is not modelled).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultControls, StatementFault, StatementHold } from './faults.js';
import { checkRedshiftSql } from './redshift-rules.js';
import type { PgExecutor, Session, SqlOutcome } from './pg-executor.js';
import { bindParameters, translateRedshiftSql } from './sql-translate.js';

export type Status = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

/** An error the server answers with: the Data API error name, its HTTP status and members. */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    readonly httpStatus: number,
    message: string,
    readonly members: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
export const validation = (message: string) => new ServiceError('ValidationException', 400, message);

/** The Data API's documented limit on one SQL statement, in bytes. */
export const MAX_SQL_BYTES = 102_400;
export const MAX_BATCH_STATEMENTS = 40;

export interface Part {
  sql: string;
  status: Status;
  error?: string;
  createdAt: number;
  updatedAt: number;
  outcome?: SqlOutcome;
}

export interface Target {
  ClusterIdentifier?: string;
  WorkgroupName?: string;
  Database?: string;
  DbUser?: string;
  SecretArn?: string;
}

export interface StatementRecord {
  id: string;
  batch: boolean;
  transaction: boolean;
  parts: Part[];
  parameters: { name: string; value: string }[] | undefined;
  target: Target;
  status: Status;
  error?: string;
  createdAt: number;
  updatedAt: number;
  /** What run() is doing now; decides how CancelStatement acts. */
  phase: 'waiting' | 'hanging' | 'running' | 'done';
  cancelled: boolean;
  fault: StatementFault | undefined;
  hold: StatementHold | undefined;
  pid?: number;
}

export interface SubmitInput extends Target {
  Sql?: string;
  Sqls?: string[];
  Parameters?: { name: string; value: string }[];
  ClientToken?: string;
  ExecutionMode?: string;
}

export interface StoreOptions {
  maxActiveStatements: number;
  /** How long a ClientToken is remembered, milliseconds. */
  clientTokenTtlMs: number;
  /** The server's clock, milliseconds since the epoch (tests move it to expire tokens). */
  now: () => number;
}

export interface ServerStats {
  /** Requests by operation. */
  requests: Record<string, number>;
  /** Statements actually created (replays excluded). */
  statements: number;
  /** Requests answered from the ClientToken memory. */
  tokenReplays: number;
  /** The SQL of every statement created (a batch's statements one by one), in order. */
  sql: string[];
}

const ACTIVE: Status[] = ['SUBMITTED', 'PICKED', 'STARTED'];
const PARAMETER_NAME = /^[0-9a-zA-Z_]+$/;

export class StatementStore {
  private readonly records = new Map<string, StatementRecord>();
  private readonly tokens = new Map<string, { id: string; fingerprint: string; at: number }>();
  private readonly running = new Set<Promise<void>>();
  /** Function name (lower case) → the user who created it. */
  private readonly functionOwners = new Map<string, string>();

  constructor(
    private readonly executor: PgExecutor,
    private readonly options: StoreOptions,
    private readonly faults: FaultControls,
    readonly stats: ServerStats,
  ) {}

  submit(input: SubmitInput, batch: boolean): StatementRecord {
    const sqls = batch ? input.Sqls : input.Sql === undefined ? undefined : [input.Sql];
    if (!sqls || sqls.length === 0) throw validation(batch ? 'Sqls must hold at least 1 statement' : 'Sql is required');
    if (sqls.length > MAX_BATCH_STATEMENTS) throw validation(`Sqls holds ${sqls.length} statements; at most ${MAX_BATCH_STATEMENTS} are allowed`);
    for (const sql of sqls) {
      if (typeof sql !== 'string' || sql.trim() === '') throw validation('a SQL statement is empty');
      if (Buffer.byteLength(sql) > MAX_SQL_BYTES) throw validation(`SQL statement is ${Buffer.byteLength(sql)} bytes; the limit is 100 KB`);
    }
    if (!input.ClusterIdentifier === !input.WorkgroupName) throw validation('exactly one of ClusterIdentifier and WorkgroupName is required');
    if (!input.Database) throw validation('Database is required');
    if (input.Parameters !== undefined) {
      if (input.Parameters.length === 0) throw validation('Parameters must hold at least 1 entry');
      for (const p of input.Parameters) {
        if (!PARAMETER_NAME.test(p.name ?? '')) throw validation(`parameter name ${JSON.stringify(p.name)} must match [0-9a-zA-Z_]+`);
        if (typeof p.value !== 'string' || p.value.length < 1) throw validation(`parameter ${p.name} has an empty value`);
      }
    }
    if (input.ClientToken !== undefined) {
      if (input.ClientToken.length < 1 || input.ClientToken.length > 64) throw validation('ClientToken must be 1 to 64 characters');
      const { ClientToken: _token, ...rest } = input;
      const fingerprint = JSON.stringify({ batch, ...rest });
      const seen = this.tokens.get(input.ClientToken);
      if (seen && this.options.now() - seen.at < this.options.clientTokenTtlMs) {
        if (seen.fingerprint !== fingerprint) throw validation('ClientToken was already used with a different request');
        this.stats.tokenReplays++;
        return this.records.get(seen.id)!;
      }
      const record = this.create(input, sqls, batch);
      this.tokens.set(input.ClientToken, { id: record.id, fingerprint, at: this.options.now() });
      return record;
    }
    return this.create(input, sqls, batch);
  }

  private create(input: SubmitInput, sqls: string[], batch: boolean): StatementRecord {
    const active = [...this.records.values()].filter((r) => ACTIVE.includes(r.status)).length;
    if (active >= this.options.maxActiveStatements) {
      throw new ServiceError('ActiveStatementsExceededException', 400, `Active statements exceeded the allowed quota (${this.options.maxActiveStatements}).`);
    }
    const now = Date.now() / 1000;
    const record: StatementRecord = {
      id: randomUUID(),
      batch,
      transaction: !batch || input.ExecutionMode !== 'AUTO_COMMIT',
      parts: sqls.map((sql) => ({ sql, status: 'SUBMITTED', createdAt: now, updatedAt: now })),
      parameters: input.Parameters,
      target: {
        ClusterIdentifier: input.ClusterIdentifier,
        WorkgroupName: input.WorkgroupName,
        Database: input.Database,
        DbUser: input.DbUser,
        SecretArn: input.SecretArn,
      },
      status: 'SUBMITTED',
      createdAt: now,
      updatedAt: now,
      phase: 'waiting',
      cancelled: false,
      fault: this.faults.takeStatementFault(sqls),
      hold: this.faults.takeHold(sqls),
    };
    this.records.set(record.id, record);
    this.stats.statements++;
    this.stats.sql.push(...sqls);
    const work = this.run(record).finally(() => this.running.delete(work));
    this.running.add(work);
    return record;
  }

  /** The statement named by `id`, or by `id:N` its N-th sub-statement (1-based). */
  find(id: string): { record: StatementRecord; part: number | undefined } {
    const match = /^(.+?)(?::(\d{1,2}))?$/.exec(id ?? '');
    const record = match ? this.records.get(match[1]!) : undefined;
    const part = match?.[2] === undefined ? undefined : Number(match[2]) - 1;
    if (!record || (part !== undefined && (!record.batch || !record.parts[part]))) {
      throw new ServiceError('ResourceNotFoundException', 404, `Query does not exist: ${id}`, { ResourceId: id });
    }
    return { record, part };
  }

  async cancel(id: string): Promise<boolean> {
    const { record } = this.find(id);
    if (!ACTIVE.includes(record.status)) throw validation(`Could not cancel a query that is already in ${record.status} state.`);
    record.cancelled = true;
    if (record.phase === 'running') void this.interrupt(record);
    else this.finish(record, 'ABORTED');
    return true;
  }

  /**
   * Stops what PostgreSQL runs for a cancelled statement: asks again until the statement ended,
   * since a cancel can arrive between two of its queries (run() also checks `cancelled`).
   */
  private async interrupt(record: StatementRecord): Promise<void> {
    while (record.phase === 'running') {
      if (record.pid !== undefined) await this.executor.cancelBackend(record.pid);
      await sleep(20);
    }
  }

  /** Waits for every statement still running (server shutdown). Held and hanging ones are aborted. */
  async drain(): Promise<void> {
    for (const record of this.records.values()) {
      if (record.phase === 'hanging' || record.phase === 'waiting') {
        record.cancelled = true;
        record.hold?.release();
        if (record.phase === 'hanging') this.finish(record, 'ABORTED');
      }
    }
    await Promise.allSettled([...this.running]);
  }

  private async run(record: StatementRecord): Promise<void> {
    await record.hold?.released;
    if (record.cancelled) {
      if (record.phase !== 'done') this.finish(record, 'ABORTED');
      return;
    }
    this.setStatus(record, 'STARTED');
    if (record.fault?.kind === 'hang') {
      record.phase = 'hanging';
      return;
    }
    record.phase = 'running';
    let session: Session;
    try {
      session = await this.executor.session();
    } catch (error) {
      this.fail(record, 0, error);
      return;
    }
    record.pid = session.pid;
    const transaction = record.transaction || record.fault?.kind === 'fail';
    const created: string[] = [];
    let index = 0;
    let broken = false;
    try {
      if (transaction) await session.run('BEGIN', []);
      for (; index < record.parts.length; index++) {
        const part = record.parts[index]!;
        if (record.cancelled) throw new Error('canceling statement due to user request');
        this.setPart(part, 'STARTED');
        checkRedshiftSql(part.sql);
        created.push(...this.checkFunctionOwner(part.sql, record));
        const bound = bindParameters(translateRedshiftSql(part.sql), record.parameters);
        if (bound.missing.length > 0) throw new Error(`no value for parameter :${bound.missing[0]}`);
        part.outcome = await session.run(bound.text, bound.values);
        this.setPart(part, 'FINISHED');
      }
      index = record.parts.length - 1;
      if (record.fault?.kind === 'fail') throw new Error(record.fault.message);
      if (transaction) await session.run('COMMIT', []);
      for (const name of created) if (!this.functionOwners.has(name)) this.functionOwners.set(name, userOf(record));
      this.finish(record, 'FINISHED');
    } catch (error) {
      if (transaction) await session.run('ROLLBACK', []).catch(() => (broken = true));
      this.fail(record, Math.min(index, record.parts.length - 1), error);
    } finally {
      await session.release(broken);
    }
  }

  /** The function a CREATE [OR REPLACE] FUNCTION defines; throws when another user owns it. */
  private checkFunctionOwner(sql: string, record: StatementRecord): string[] {
    const match = /^\s*CREATE\s+(OR\s+REPLACE\s+)?FUNCTION\s+([\w.]+)/i.exec(sql);
    if (!match) return [];
    const name = match[2]!.toLowerCase();
    const owner = this.functionOwners.get(name);
    if (owner !== undefined && owner !== userOf(record)) throw new Error(`must be owner of function ${name}`);
    return [name];
  }

  private fail(record: StatementRecord, index: number, error: unknown): void {
    const text = `ERROR: ${redshiftErrorText(error)}`;
    const status: Status = record.cancelled ? 'ABORTED' : 'FAILED';
    record.parts.forEach((part, i) => {
      if (i === index) this.setPart(part, status, text);
      else if (i > index) this.setPart(part, 'ABORTED');
    });
    record.error = text;
    this.finish(record, status);
  }

  private finish(record: StatementRecord, status: Status): void {
    record.phase = 'done';
    if (status === 'ABORTED') for (const part of record.parts) if (ACTIVE.includes(part.status)) this.setPart(part, 'ABORTED');
    this.setStatus(record, status);
  }

  private setStatus(record: StatementRecord, status: Status): void {
    record.status = status;
    record.updatedAt = Date.now() / 1000;
  }

  private setPart(part: Part, status: Status, error?: string): void {
    part.status = status;
    part.updatedAt = Date.now() / 1000;
    if (error) part.error = error;
  }
}

/** PostgreSQL's error text, with its serialization failure (40001) worded as Redshift's error 1023. */
function redshiftErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { code?: unknown } | undefined)?.code === '40001') {
    return `1023 DETAIL: Serializable isolation violation on table in a concurrent transaction (PostgreSQL: ${message})`;
  }
  return message;
}

/** Who runs a statement: its DbUser, or its secret standing for one. */
function userOf(record: StatementRecord): string {
  return record.target.DbUser ?? record.target.SecretArn ?? 'iam';
}
