import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BIGINT,
  BLOB,
  DuckDBBlobValue,
  DuckDBDataChunk,
  DuckDBInstance,
  DuckDBTimestampValue,
  LIST,
  UINTEGER,
  UTINYINT,
  VARCHAR,
  listValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBVector,
} from '@duckdb/node-api';
import type { LoadHooks, LoadResult, MinuteBatch, QueryParams, QueryRow, Warehouse } from '../warehouse.js';
import { WarehouseError, batchLabel, wrapWarehouseError } from '../errors.js';
import { compileNamedParams, normalizeValue } from '../named-params.js';
import { readSql, splitStatements } from '../sql-files.js';
import { SerialQueue } from '../serial-queue.js';
import { packedSketchRegisters } from '../sketch-formats.js';
import { resolveTimeouts, timeoutError, type WarehouseTimeouts } from '../timeouts.js';


export interface DuckDBWarehouseOptions extends Omit<WarehouseTimeouts, 'idleTimeoutMs'> {
  /** Database file; its folder is created. `:memory:` keeps nothing (tests only). */
  path: string;
  hooks?: LoadHooks;
}

/**
 * The embedded default. The file is opened only for the length of one operation, so the CLI and
 * the `duckdb` shell can read it while the pipeline runs. DuckDB lets one process write a file
 * at a time: operations inside this process are serialised, and a file held by another process
 * is retried until `connectTimeoutMs` (WAREHOUSE_CONNECT_TIMEOUT_SECONDS), then the operation
 * fails with WAREHOUSE_TIMEOUT. An operation running past `statementTimeoutMs` is interrupted.
 * There is no idle connection to time out.
 */
export function createDuckDBWarehouse(options: DuckDBWarehouseOptions): Warehouse {
  const { connectTimeoutMs, statementTimeoutMs } = resolveTimeouts(options);
  const queue = queueFor(options.path);
  let memory: DuckDBInstance | undefined; // `:memory:` must stay open or it forgets everything
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });

  async function open(readOnly: boolean): Promise<DuckDBInstance> {
    if (options.path === ':memory:') return (memory ??= await DuckDBInstance.create(':memory:'));
    const deadline = Date.now() + connectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        // Writes (loads, migrations) use one DuckDB thread: a flush's INSERT … SELECT then leaves
        // the other core to the tracker and Redis (tracker p99 during a 1M-counter flush).
        return await DuckDBInstance.create(options.path, readOnly ? { access_mode: 'READ_ONLY' } : { threads: '1' });
      } catch (error) {
        const locked = error instanceof Error && /lock/i.test(error.message);
        if (!locked) throw wrapWarehouseError('WAREHOUSE_CONFIG', `cannot open DuckDB file ${options.path}`, error);
        if (Date.now() >= deadline) {
          const timeout = timeoutError(`waiting for the lock on DuckDB file ${options.path}`, connectTimeoutMs);
          throw new WarehouseError('WAREHOUSE_TIMEOUT', `${timeout.message} (another process holds it)`, { cause: error });
        }
        await sleep(Math.min(25 * 2 ** attempt, 500, Math.max(deadline - Date.now(), 1)));
      }
    }
  }

  function withConnection<T>(readOnly: boolean, work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return queue.run(async () => {
      const instance = await open(readOnly);
      const connection = await instance.connect();
      // Past the timeout the running statement is interrupted (it fails with DuckDB's INTERRUPT
      // error, reported as WAREHOUSE_TIMEOUT); the connection closes only once it has stopped.
      let interrupted = false;
      const timer = setTimeout(() => {
        interrupted = true;
        connection.interrupt();
      }, statementTimeoutMs);
      try {
        return await work(connection);
      } catch (error) {
        if (!interrupted) throw error;
        throw new WarehouseError('WAREHOUSE_TIMEOUT', timeoutError('a DuckDB statement', statementTimeoutMs).message, { cause: error });
      } finally {
        clearTimeout(timer);
        connection.closeSync();
        if (instance !== memory) instance.closeSync();
      }
    });
  }

  /** One opening of the file and one transaction for all the batches. */
  async function loadBatches(batches: readonly MinuteBatch[]): Promise<LoadResult[]> {
    if (batches.length === 0) return [];
    try {
      return await withConnection(false, (connection) => loadInTransaction(connection, batches, options.hooks));
    } catch (error) {
      throw wrapWarehouseError('WAREHOUSE_LOAD', 'DuckDB load failed', error, batchLabel(batches));
    }
  }

  return {
    dialect: 'duckdb',

    async migrate() {
      try {
        await withConnection(false, async (connection) => {
          for (const statement of splitStatements(readSql('duckdb', '_migrate'))) await connection.run(statement);
        });
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_MIGRATE', 'DuckDB migration failed', error);
      }
    },

    async load(batch) {
      return (await loadBatches([batch]))[0]!;
    },

    loadBatches,

    async query(sql, params = {}) {
      try {
        return await withConnection(options.path !== ':memory:', (connection) => runQuery(connection, sql, params));
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_QUERY', 'DuckDB query failed', error);
      }
    },

    async execute(sql, params = {}) {
      try {
        await withConnection(false, (connection) => runQuery(connection, sql, params));
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_QUERY', 'DuckDB statement failed', error);
      }
    },

    async close() {
      await queue.run(async () => {
        memory?.closeSync();
        memory = undefined;
      });
    },
  };
}

// DuckDB's file lock is per process: two instances of one file in the same process would both
// write it. Every adapter on the same file in this process shares one queue.
const fileQueues = new Map<string, SerialQueue>();
function queueFor(path: string): SerialQueue {
  if (path === ':memory:') return new SerialQueue();
  const key = resolve(path);
  let queue = fileQueues.get(key);
  if (!queue) fileQueues.set(key, (queue = new SerialQueue()));
  return queue;
}

/** The batches not yet in the ledger, their ledger rows and their rows, in one transaction. */
async function loadInTransaction(
  connection: DuckDBConnection,
  batches: readonly MinuteBatch[],
  hooks: LoadHooks | undefined,
): Promise<LoadResult[]> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const ids = batches.map((b) => b.batchId);
    const seen = await connection.runAndReadAll('SELECT batch_id FROM load_batches WHERE list_contains($ids, batch_id)', { ids: listValue(ids) }, { ids: LIST(VARCHAR) });
    const loaded = new Set(seen.getColumnsJS()[0] ?? []);
    const fresh = batches.filter((b) => !loaded.has(b.batchId) && (loaded.add(b.batchId), true));
    if (fresh.length === 0) {
      await connection.run('ROLLBACK');
      return batches.map(() => ({ status: 'already-loaded', counterRows: 0, visitorRows: 0 }));
    }
    for (const batch of fresh) {
      await connection.run(
        'INSERT INTO load_batches (batch_id, site, minute, counter_rows, visitor_rows) VALUES ($id, $site, $minute, $c, $v)',
        { id: batch.batchId, site: batch.site, minute: timestamp(batch.minute), c: batch.counters.length, v: batch.visitors.length },
      );
    }
    await stageRows(connection, fresh);
    for (const batch of fresh) await hooks?.beforeCommit?.(batch);
    await connection.run('COMMIT');
    // The file is closed after each operation, and closing checkpoints the WAL into it: done
    // here, the checkpoint runs on DuckDB's threads while the flusher reads the next buckets
    // from Redis, not inside the synchronous close. A failed checkpoint leaves the commit in the
    // WAL, which the next opening replays.
    await connection.run('CHECKPOINT').catch(() => undefined);
    const committed = new Set(fresh);
    return batches.map((batch) =>
      committed.has(batch)
        ? { status: 'loaded', counterRows: batch.counters.length, visitorRows: batch.visitors.length }
        : { status: 'already-loaded', counterRows: 0, visitorRows: 0 },
    );
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Rows of a staged chunk: DuckDB's vector size. */
const CHUNK_ROWS = 2_048;
const STAGE_COUNTERS = [UINTEGER, UTINYINT, UINTEGER, VARCHAR, BIGINT];
const STAGE_VISITORS = [UINTEGER, UTINYINT, VARCHAR, BIGINT, BLOB, VARCHAR];

/**
 * Writes the batches' rows into `event_counts` and `unique_visitors`. The rows go through temp
 * tables in columnar chunks holding only what varies per row (the batch, event and dimension as
 * small integers, the value, the count); one INSERT … SELECT per table then adds the minute,
 * site and batch id and writes the table on DuckDB's own threads. Row by row through the
 * appender it was eight calls into DuckDB per row on the event loop, the storage write included.
 */
async function stageRows(connection: DuckDBConnection, batches: readonly MinuteBatch[]): Promise<void> {
  await connection.run('CREATE OR REPLACE TEMP TABLE rta_batches (b UINTEGER, batch_id VARCHAR, site VARCHAR, minute TIMESTAMP)');
  await connection.run('CREATE OR REPLACE TEMP TABLE rta_names (n UINTEGER, name VARCHAR)');
  await connection.run('CREATE OR REPLACE TEMP TABLE rta_counters (b UINTEGER, d UTINYINT, e UINTEGER, value VARCHAR, count BIGINT)');
  await connection.run('CREATE OR REPLACE TEMP TABLE rta_visitors (b UINTEGER, d UTINYINT, value VARCHAR, visitors BIGINT, sketch BLOB, registers VARCHAR)');
  const meta = await connection.createAppender('rta_batches', 'main', 'temp');
  batches.forEach((batch, b) => {
    meta.appendUInteger(b);
    meta.appendVarchar(batch.batchId);
    meta.appendVarchar(batch.site);
    meta.appendTimestamp(timestamp(batch.minute));
    meta.endRow();
  });
  meta.closeSync();
  // Dimensions and event names share one small table of names, numbered as first seen.
  const names = new Map<string, number>();
  const nameOf = (name: string) => {
    let n = names.get(name);
    if (n === undefined) names.set(name, (n = names.size));
    return n;
  };
  const counters = await connection.createAppender('rta_counters', 'main', 'temp');
  await appendChunks(counters, STAGE_COUNTERS, batches, (b) => b.counters, (columns, j, row, b) => {
    columns[0]!.setItem(j, b);
    columns[1]!.setItem(j, nameOf(row.dimension));
    columns[2]!.setItem(j, nameOf(row.event));
    columns[3]!.setItem(j, row.value);
    columns[4]!.setItem(j, row.count);
  });
  counters.closeSync();
  const visitors = await connection.createAppender('rta_visitors', 'main', 'temp');
  await appendChunks(visitors, STAGE_VISITORS, batches, (b) => b.visitors, (columns, j, row, b, batch) => {
    columns[0]!.setItem(j, b);
    columns[1]!.setItem(j, nameOf(row.dimension));
    columns[2]!.setItem(j, row.value);
    columns[3]!.setItem(j, BigInt(row.visitors));
    columns[4]!.setItem(j, new DuckDBBlobValue(row.sketch));
    columns[5]!.setItem(j, packedSketchRegisters(row.sketch, batch.batchId).join(','));
  });
  visitors.closeSync();
  const list = await connection.createAppender('rta_names', 'main', 'temp');
  for (const [name, n] of names) {
    list.appendUInteger(n);
    list.appendVarchar(name);
    list.endRow();
  }
  list.closeSync();
  await connection.run(
    `INSERT INTO event_counts (minute, site, event, dimension, value, count, batch_id)
     SELECT m.minute, m.site, e.name, d.name, c.value, c.count, m.batch_id
     FROM temp.rta_counters c JOIN temp.rta_batches m ON m.b = c.b JOIN temp.rta_names e ON e.n = c.e JOIN temp.rta_names d ON d.n = c.d`,
  );
  await connection.run(
    `INSERT INTO unique_visitors (minute, site, dimension, value, visitors, sketch, batch_id, registers)
     SELECT m.minute, m.site, d.name, v.value, v.visitors, v.sketch, m.batch_id, CAST('[' || v.registers || ']' AS INTEGER[])
     FROM temp.rta_visitors v JOIN temp.rta_batches m ON m.b = v.b JOIN temp.rta_names d ON d.n = v.d`,
  );
  for (const table of ['rta_batches', 'rta_names', 'rta_counters', 'rta_visitors']) await connection.run(`DROP TABLE temp.${table}`);
}

/** Appends every batch's rows of one kind to `appender` in chunks of CHUNK_ROWS, columns set by `set`. */
async function appendChunks<R>(
  appender: DuckDBAppender,
  types: DuckDBType[],
  batches: readonly MinuteBatch[],
  rowsOf: (batch: MinuteBatch) => readonly R[],
  set: (columns: DuckDBVector[], j: number, row: R, b: number, batch: MinuteBatch) => void,
): Promise<void> {
  const chunk = DuckDBDataChunk.create(types, CHUNK_ROWS);
  let j = 0;
  let columns: DuckDBVector[] = [];
  const flush = () => {
    if (j === 0) return;
    for (const column of columns) column.flush();
    if (j < CHUNK_ROWS) chunk.rowCount = j;
    appender.appendDataChunk(chunk);
    j = 0;
  };
  for (const [b, batch] of batches.entries()) {
    for (const row of rowsOf(batch)) {
      if (j === 0) {
        chunk.reset();
        chunk.rowCount = CHUNK_ROWS;
        columns = types.map((_, c) => chunk.getColumnVector(c));
      }
      set(columns, j, row, b, batch);
      if (++j === CHUNK_ROWS) flush();
    }
  }
  flush();
}

async function runQuery(connection: DuckDBConnection, sql: string, params: QueryParams): Promise<QueryRow[]> {
  const compiled = compileNamedParams(sql, params, 'dollar-name');
  const values: Record<string, DuckDBValue> = {};
  compiled.names.forEach((name, i) => {
    const value = compiled.values[i] ?? null;
    values[name] = value instanceof Date ? timestamp(value) : value;
  });
  const reader = await connection.runAndReadAll(compiled.sql, values);
  return reader.getRowObjectsJS().map((row) => {
    const out: QueryRow = {};
    for (const [key, value] of Object.entries(row)) out[key] = normalizeValue(value);
    return out;
  });
}

function timestamp(date: Date): DuckDBTimestampValue {
  if (Number.isNaN(date.getTime())) throw new WarehouseError('WAREHOUSE_QUERY', 'invalid date parameter');
  return new DuckDBTimestampValue(BigInt(date.getTime()) * 1000n);
}
