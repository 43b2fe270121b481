import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DuckDBInstance,
  DuckDBTimestampValue,
  INTEGER,
  LIST,
  VARCHAR,
  listValue,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { LoadHooks, LoadResult, MinuteBatch, QueryParams, QueryRow, Warehouse } from '../warehouse.js';
import { WarehouseError, batchLabel, wrapWarehouseError } from '../errors.js';
import { compileNamedParams, normalizeValue } from '../named-params.js';
import { readSql, splitStatements } from '../sql-files.js';
import { SerialQueue } from '../serial-queue.js';
import { packedSketchRegisters } from '../sketch-formats.js';
import { resolveTimeouts, timeoutError, type WarehouseTimeouts } from '../timeouts.js';

const PACKED_REGISTERS = LIST(INTEGER);

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
        return await DuckDBInstance.create(options.path, readOnly ? { access_mode: 'READ_ONLY' } : {});
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
    const counters = await connection.createAppender('event_counts');
    for (const batch of fresh) {
      const minute = timestamp(batch.minute);
      for (const row of batch.counters) {
        counters.appendTimestamp(minute);
        counters.appendVarchar(batch.site);
        counters.appendVarchar(row.event);
        counters.appendVarchar(row.dimension);
        counters.appendVarchar(row.value);
        counters.appendBigInt(row.count);
        counters.appendVarchar(batch.batchId);
        counters.endRow();
      }
    }
    counters.closeSync();
    const visitors = await connection.createAppender('unique_visitors');
    for (const batch of fresh) {
      const minute = timestamp(batch.minute);
      for (const row of batch.visitors) {
        const registers = packedSketchRegisters(row.sketch, batch.batchId);
        visitors.appendTimestamp(minute);
        visitors.appendVarchar(batch.site);
        visitors.appendVarchar(row.dimension);
        visitors.appendVarchar(row.value);
        visitors.appendBigInt(BigInt(row.visitors));
        visitors.appendBlob(row.sketch);
        visitors.appendVarchar(batch.batchId);
        visitors.appendList(registers, PACKED_REGISTERS);
        visitors.endRow();
      }
    }
    visitors.closeSync();
    for (const batch of fresh) await hooks?.beforeCommit?.(batch);
    await connection.run('COMMIT');
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
