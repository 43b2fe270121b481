import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { LoadHooks, LoadResult, MinuteBatch, QueryRow, Warehouse } from '../warehouse.js';
import { WarehouseError, batchLabel, wrapWarehouseError, type WarehouseErrorCode } from '../errors.js';
import { compileNamedParams } from '../named-params.js';
import { readSql, splitStatements } from '../sql-files.js';
import { packedSketchRegisters } from '../sketch-formats.js';
import { resolveTimeouts, type ResolvedTimeouts, type WarehouseTimeouts } from '../timeouts.js';

export interface PostgresWarehouseOptions extends WarehouseTimeouts {
  /** `postgres://user:pass@host:port/db`. */
  connectionString: string;
  /** Schema holding the tables, created by `migrate`. Default `public`. */
  schema?: string;
  /** Pool size. Default 4. */
  maxConnections?: number;
  hooks?: LoadHooks;
}

export const postgresDefaults = { schema: 'public', maxConnections: 4 } as const;

const TIMESTAMP_OID = 1114;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Minutes are UTC wall-clock `timestamp`s; this keeps the process time zone out of it. */
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TIMESTAMP_OID) return (text: string) => new Date(`${text.replace(' ', 'T')}Z`);
    if (oid === INT8_OID || oid === NUMERIC_OID) return parseInteger;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

function parseInteger(text: string): number | string {
  const n = Number(text);
  return /^-?\d+$/.test(text) && Number.isSafeInteger(n) ? n : text;
}

/** A UTC timestamp literal PostgreSQL reads the same whatever the session's time zone. */
export function utcTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '');
}

/**
 * PostgreSQL through a `pg` pool. Timeouts: `connectTimeoutMs` bounds a checkout (TCP, TLS and
 * authentication included); `statementTimeoutMs` is the server's `statement_timeout` and
 * `idle_in_transaction_session_timeout` (a session whose client vanished mid-load ends and
 * releases its locks) and also the client's read timeout, so a silent network fails the load
 * too; `idleTimeoutMs` closes unused pooled connections. TCP keepalive is on.
 *
 * A connection that errors while checked out (reset mid-load) makes the `pg` client emit
 * `'error'`: every client gets a listener when the pool creates it, so that is a failed load
 * (the query rejects), never an unhandled event. A client that errored or timed out is
 * destroyed, not returned to the pool, and no ROLLBACK is sent on it: the server rolls back
 * when the session ends.
 */
export function createPostgresWarehouse(options: PostgresWarehouseOptions): Warehouse {
  const schema = options.schema ?? postgresDefaults.schema;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  const timeouts = resolveTimeouts(options);
  const statementMs = timeouts.statementTimeoutMs;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? postgresDefaults.maxConnections,
    options: `-c search_path=${schema} -c statement_timeout=${statementMs} -c idle_in_transaction_session_timeout=${statementMs}`,
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    query_timeout: statementMs,
    idleTimeoutMillis: timeouts.idleTimeoutMs,
    keepAlive: true,
    types,
  });
  /** Clients whose connection failed; they are destroyed on release. */
  const broken = new WeakSet<pg.PoolClient>();
  pool.on('connect', (client) => {
    client.on('error', () => broken.add(client as pg.PoolClient)); // the running query rejects with the same error
  });
  pool.on('error', () => undefined); // an idle client dropped by the server; the next checkout reconnects

  /** Runs `work` on a checked-out client; on failure rolls back when the connection is still sound. */
  async function withClient<T>(work: (client: pg.PoolClient) => Promise<T>, batchId?: string): Promise<T> {
    const client = await connect(pool, timeouts, batchId);
    let sound = true;
    try {
      return await work(client);
    } catch (error) {
      sound = !broken.has(client) && !isClientTimeout(error);
      if (sound) await client.query('ROLLBACK').catch(() => (sound = false));
      throw error;
    } finally {
      client.release(sound ? undefined : true);
    }
  }

  /** One transaction, and one statement per table, for all the batches. */
  async function loadBatches(batches: readonly MinuteBatch[]): Promise<LoadResult[]> {
    if (batches.length === 0) return [];
    const label = batchLabel(batches);
    try {
      return await withClient((client) => loadInTransaction(client, batches, options.hooks), label);
    } catch (error) {
      throw classified(error, 'WAREHOUSE_LOAD', 'PostgreSQL load', timeouts, label);
    }
  }

  return {
    dialect: 'postgres',

    async migrate() {
      try {
        await withClient(async (client) => {
          // Serialise concurrent migrations (several flushers starting at once).
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock(7317001)');
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
          for (const statement of splitStatements(readSql('postgres', '_migrate'))) await client.query(statement);
          await client.query('COMMIT');
        });
      } catch (error) {
        throw classified(error, 'WAREHOUSE_MIGRATE', 'PostgreSQL migration', timeouts);
      }
    },

    async load(batch) {
      return (await loadBatches([batch]))[0]!;
    },

    loadBatches,

    async query(sql, params = {}) {
      const compiled = compileNamedParams(sql, params, 'dollar-number');
      const values = compiled.values.map((v) => (v instanceof Date ? utcTimestamp(v) : v));
      try {
        return await withClient(async (client) => (await client.query(compiled.sql, values)).rows as QueryRow[]);
      } catch (error) {
        throw classified(error, 'WAREHOUSE_QUERY', 'PostgreSQL query', timeouts);
      }
    },

    async execute(sql, params = {}) {
      await this.query(sql, params);
    },

    async close() {
      await pool.end();
    },
  };
}

async function connect(pool: pg.Pool, timeouts: ResolvedTimeouts, batchId?: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    if (error instanceof Error && /timeout/i.test(error.message)) {
      throw new WarehouseError('WAREHOUSE_TIMEOUT', `connecting to PostgreSQL timed out after ${timeouts.connectTimeoutMs} ms`, {
        cause: error,
        batchId,
      });
    }
    throw wrapWarehouseError('WAREHOUSE_CONNECT', 'cannot connect to PostgreSQL', error, batchId);
  }
}

/** The client gave up waiting for an answer (`query_timeout`): the connection is unusable. */
function isClientTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

/** `57014` is the server's statement_timeout; `Query read timeout` the client's. */
function classified(error: unknown, code: WarehouseErrorCode, what: string, timeouts: ResolvedTimeouts, batchId?: string): WarehouseError {
  if (error instanceof WarehouseError) return wrapWarehouseError(code, what, error, batchId);
  const sqlState = (error as { code?: unknown } | undefined)?.code;
  if (isClientTimeout(error) || sqlState === '57014') {
    const message = `${what} timed out: a statement ran past ${timeouts.statementTimeoutMs} ms (${(error as Error).message})`;
    return new WarehouseError('WAREHOUSE_TIMEOUT', message, { cause: error, batchId });
  }
  return wrapWarehouseError(code, `${what} failed`, error, batchId);
}

async function loadInTransaction(client: pg.PoolClient, batches: readonly MinuteBatch[], hooks: LoadHooks | undefined): Promise<LoadResult[]> {
  await client.query('BEGIN');
  // A concurrent load of the same id waits here on the primary key until the first one ends;
  // ids go in sorted, so two loads of overlapping batches take those waits in the same order.
  const byId = [...new Map(batches.map((b) => [b.batchId, b])).values()].sort((a, b) => (a.batchId < b.batchId ? -1 : a.batchId > b.batchId ? 1 : 0));
  const ledger = await client.query<{ batch_id: string }>(
    `INSERT INTO load_batches (batch_id, site, minute, counter_rows, visitor_rows)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamp[], $4::int[], $5::int[])
     ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id`,
    [
      byId.map((b) => b.batchId),
      byId.map((b) => b.site),
      byId.map((b) => utcTimestamp(b.minute)),
      byId.map((b) => b.counters.length),
      byId.map((b) => b.visitors.length),
    ],
  );
  const inserted = new Set(ledger.rows.map((r) => r.batch_id));
  const fresh = byId.filter((b) => inserted.has(b.batchId));
  if (fresh.length === 0) {
    await client.query('ROLLBACK');
    return batches.map(() => ({ status: 'already-loaded', counterRows: 0, visitorRows: 0 }));
  }
  // One COPY per table whatever the row count (text format, one line per row).
  await copyLines(client, 'COPY event_counts (minute, site, event, dimension, value, count, batch_id) FROM STDIN', function* () {
    for (const b of fresh) {
      const head = `${utcTimestamp(b.minute)}\t${copyText(b.site)}\t`;
      const tail = `\t${copyText(b.batchId)}\n`;
      for (const r of b.counters) yield `${head}${copyText(r.event)}\t${r.dimension}\t${copyText(r.value)}\t${r.count}${tail}`;
    }
  });
  await copyLines(client, 'COPY unique_visitors (minute, site, dimension, value, visitors, sketch, batch_id, registers) FROM STDIN', function* () {
    for (const b of fresh) {
      const head = `${utcTimestamp(b.minute)}\t${copyText(b.site)}\t`;
      const batch = copyText(b.batchId);
      for (const r of b.visitors) {
        const registers = packedSketchRegisters(r.sketch, b.batchId).join(',');
        yield `${head}${r.dimension}\t${copyText(r.value)}\t${r.visitors}\t\\\\x${Buffer.from(r.sketch.buffer, r.sketch.byteOffset, r.sketch.byteLength).toString('hex')}\t${batch}\t{${registers}}\n`;
      }
    }
  });
  for (const batch of fresh) await hooks?.beforeCommit?.(batch);
  await client.query('COMMIT');
  return batches.map((batch) =>
    inserted.delete(batch.batchId)
      ? { status: 'loaded', counterRows: batch.counters.length, visitorRows: batch.visitors.length }
      : { status: 'already-loaded', counterRows: 0, visitorRows: 0 },
  );
}

/** Streams `lines` into a `COPY … FROM STDIN` in chunks of about 64 KB. */
async function copyLines(client: pg.PoolClient, sql: string, lines: () => Iterable<string>): Promise<void> {
  function* chunks(): Iterable<string> {
    let chunk = '';
    for (const line of lines()) {
      chunk += line;
      if (chunk.length >= 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value in COPY's text format: backslash, newline, carriage return and tab escaped. */
function copyText(value: string): string {
  return /[\\\n\r\t]/.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!) : value;
}
