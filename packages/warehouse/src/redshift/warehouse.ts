/**
 * Amazon Redshift (provisioned or Serverless) through the Redshift Data API: no driver, no open
 * connection, only HTTPS calls. How a batch is loaded exactly once is explained in
 * `load-plan.ts`; how calls are retried and polled in `data-api.ts`.
 *
 * ClientToken: each chunk submission carries `hash(batchId, k/n, generation)`. Resubmitting the
 * same request (our retries, or another process finishing a batch whose submission is still
 * in flight) gets the original statement back instead of a second run. The generation starts at
 * 0 and moves on each time a chunk's statement ends FAILED, ABORTED or timed out: the service
 * remembers a token's statement, and replaying a failed one forever would make the batch
 * unloadable. A new process starts again at 0, so after a failure its first try may replay that
 * failure once before moving on. Double counting is excluded by the ledger guard either way; the
 * token only saves a second execution.
 *
 * Error 1023 (serializable isolation violation): Redshift rolled the chunk's transaction back
 * because a concurrent transaction touched the same tables; the chunk is submitted again (a new
 * token generation) after a backoff, up to `maxAttempts` times.
 *
 * Timeouts: `statementTimeoutMs` bounds each operation (submission, polling, results) as
 * `data-api.ts` says; `connectTimeoutMs` the TCP/TLS connect of each request; `idleTimeoutMs`
 * how long kept-alive sockets to the Data API stay open unused. There is no database
 * connection to time out.
 *
 * Migration: the tables are created if missing; the UDF `f_rta_hll_estimate` is created when
 * missing and replaced only when its body changed, so a second migration needs no privilege
 * beyond what the first one used (replacing a function needs its owner or a superuser).
 *
 * `beforeCommit` hook: Data API transactions run server-side, so there is no moment between the
 * last row and COMMIT. The hook runs after the batch is planned and the ledger checked, before
 * the first call is submitted; throwing leaves the warehouse unchanged.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadOneByOne, type LoadResult, type MinuteBatch, type QueryParams, type QueryRow, type Warehouse } from '../warehouse.js';
import { WarehouseError, wrapWarehouseError, type WarehouseErrorCode } from '../errors.js';
import { readSql, splitStatements } from '../sql-files.js';
import { DataApi, isSerializableConflict, StatementFailedError, StatementTimeoutError } from './data-api.js';
import { ledgerLookupSql, planLoad, readLedgerState, type LoadChunk } from './load-plan.js';
import { redshiftDefaults, resolveRedshiftOptions, type RedshiftWarehouseOptions } from './options.js';
import { toRows } from './result-rows.js';
import { compileDataApiParams, sqlString, type DataApiStatement } from './sql-literals.js';

/** A concurrent CREATE TABLE IF NOT EXISTS lost its race; running the migration again is a no-op. */
/** What concurrent migrations can raise at each other (Redshift and PostgreSQL spell them alike); the loser tries again. */
const MIGRATION_RACE = /already exists|duplicate key|concurrent|serializable isolation|deadlock detected/i;

export function createRedshiftWarehouse(options: RedshiftWarehouseOptions): Warehouse {
  const settings = resolveRedshiftOptions(options);
  const api = new DataApi(settings);
  const limits = { ...redshiftDefaults.chunking, ...settings };
  /** Ledger id → token generation, for chunks whose last statement did not finish. */
  const generations = new Map<string, number>();
  /** Loads of one batch id in this process run one after the other. */
  const inFlight = new Map<string, Promise<unknown>>();

  /** Runs `work` again after a backoff while it fails with error 1023, up to `maxAttempts` tries. */
  async function retryingSerializable<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isSerializableConflict(error) || attempt >= settings.maxAttempts) throw error;
        const backoff = redshiftDefaults.retries.serializableBackoffMs * 2 ** (attempt - 1);
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }

  function run(statement: DataApiStatement): Promise<QueryRow[]> {
    return retryingSerializable(async () => {
      const deadline = api.deadline();
      const id = await api.execute(statement, deadline);
      const described = await api.wait(id, deadline);
      if (!described.HasResultSet) return [];
      const { columns, records } = await api.results(id, deadline);
      return toRows(columns, records);
    });
  }

  /** BatchExecuteStatement (one transaction) polled to its end, under one deadline. */
  async function runBatch(sqls: string[], token?: string) {
    const deadline = api.deadline();
    return api.wait(await api.batch(sqls, deadline, token), deadline);
  }

  /** One submission of a chunk; true when it loaded, false when the ledger already had it. */
  async function submitChunk(batch: MinuteBatch, chunk: LoadChunk, total: number): Promise<boolean> {
    const generation = generations.get(chunk.ledgerId) ?? 0;
    try {
      const described = await runBatch(chunk.sqls, clientToken(batch.batchId, chunk.index, total, generation));
      generations.delete(chunk.ledgerId);
      const ledgerRows = described.SubStatements?.[chunk.ledgerStatement]?.ResultRows;
      return ledgerRows === undefined || ledgerRows < 0 ? true : ledgerRows > 0;
    } catch (error) {
      if (error instanceof StatementFailedError || error instanceof StatementTimeoutError) {
        generations.set(chunk.ledgerId, generation + 1);
      }
      throw error;
    }
  }

  async function loadChunk(batch: MinuteBatch, chunk: LoadChunk, total: number): Promise<boolean> {
    try {
      return await retryingSerializable(() => submitChunk(batch, chunk, total));
    } catch (error) {
      const where = total === 1 ? '' : ` (chunk ${chunk.index} of ${total})`;
      throw wrapped(error, 'WAREHOUSE_LOAD', `Redshift load failed${where}`, batch.batchId);
    }
  }

  /** Creates the UDF when missing, replaces it when its body changed, else leaves it alone. */
  async function ensureHllEstimateFunction(): Promise<void> {
    const create = splitStatements(readSql('redshift', '_hll_estimate_udf'))[0]!;
    const body = /\$\$([\s\S]*)\$\$/.exec(create)![1]!;
    const existing = await run({
      sql:
        'SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace ' +
        `WHERE p.proname = ${sqlString(HLL_ESTIMATE_FUNCTION)} AND n.nspname = current_schema()`,
    });
    if (existing.some((row) => sameBody(String(row.prosrc), body))) return;
    const sql = existing.length === 0 ? create : create.replace(/^CREATE FUNCTION/, 'CREATE OR REPLACE FUNCTION');
    try {
      await runBatch([sql]);
    } catch (error) {
      if (existing.length > 0 && error instanceof StatementFailedError && /permission|owner|privilege/i.test(error.message)) {
        throw new WarehouseError(
          'WAREHOUSE_MIGRATE',
          `the body of ${HLL_ESTIMATE_FUNCTION} changed and replacing it needs its owner or a superuser: ` +
            `have one of them run sql/redshift/_hll_estimate_udf.sql as CREATE OR REPLACE FUNCTION (${error.message})`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async function loadOnce(batch: MinuteBatch): Promise<LoadResult> {
    const chunks = planLoad(batch, limits);
    let ledgerIds: string[];
    try {
      ledgerIds = (await run({ sql: ledgerLookupSql(batch.batchId) })).map((row) => String(row.batch_id));
    } catch (error) {
      throw wrapped(error, 'WAREHOUSE_LOAD', 'Redshift ledger lookup failed', batch.batchId);
    }
    const state = readLedgerState(batch.batchId, chunks.length, ledgerIds);
    const pending = state.complete ? [] : chunks.filter((c) => !state.loadedChunks.has(c.index));
    if (pending.length === 0) return { status: 'already-loaded', counterRows: 0, visitorRows: 0 };

    try {
      await settings.hooks?.beforeCommit?.(batch);
    } catch (error) {
      throw wrapWarehouseError('WAREHOUSE_LOAD', 'Redshift load aborted before submitting', error, batch.batchId);
    }
    const result: LoadResult = { status: 'already-loaded', counterRows: 0, visitorRows: 0 };
    for (const chunk of pending) {
      if (await loadChunk(batch, chunk, chunks.length)) {
        result.status = 'loaded';
        result.counterRows += chunk.counterRows;
        result.visitorRows += chunk.visitorRows;
      }
    }
    return result;
  }

  const warehouse: Warehouse = {
    dialect: 'redshift',

    async migrate() {
      const sqls = splitStatements(readSql('redshift', '_migrate'));
      for (let attempt = 1; ; attempt++) {
        try {
          await runBatch(sqls);
          await ensureHllEstimateFunction();
          return;
        } catch (error) {
          const raced = error instanceof StatementFailedError && MIGRATION_RACE.test(error.message);
          if (!raced || attempt >= settings.maxAttempts) throw wrapped(error, 'WAREHOUSE_MIGRATE', 'Redshift migration failed');
          const backoff = redshiftDefaults.retries.serializableBackoffMs * 2 ** (attempt - 1);
          await sleep(backoff / 2 + Math.random() * (backoff / 2));
        }
      }
    },

    /**
     * Counts in the result are the rows this call committed: a batch finished after a crash
     * between chunks reports only the chunks loaded now.
     */
    async load(batch) {
      const previous = inFlight.get(batch.batchId) ?? Promise.resolve();
      const current = previous.catch(() => undefined).then(() => loadOnce(batch));
      inFlight.set(batch.batchId, current);
      try {
        return await current;
      } finally {
        if (inFlight.get(batch.batchId) === current) inFlight.delete(batch.batchId);
      }
    },

    loadBatches(batches) {
      return loadOneByOne(warehouse, batches);
    },

    async query(sql: string, params: QueryParams = {}) {
      const statement = compileDataApiParams(sql, params);
      try {
        return await run(statement);
      } catch (error) {
        throw wrapped(error, 'WAREHOUSE_QUERY', 'Redshift query failed');
      }
    },

    async execute(sql: string, params: QueryParams = {}) {
      await warehouse.query(sql, params);
    },

    async close() {
      api.close();
    },
  };
  return warehouse;
}

const HLL_ESTIMATE_FUNCTION = 'f_rta_hll_estimate';

/** Function bodies compare equal whatever their whitespace. */
function sameBody(a: string, b: string): boolean {
  const normal = (text: string) => text.replace(/\s+/g, ' ').trim();
  return normal(a) === normal(b);
}

/** A timeout becomes WAREHOUSE_TIMEOUT, anything else `code`; wrapped once, with the batch id. */
function wrapped(error: unknown, code: WarehouseErrorCode, message: string, batchId?: string): WarehouseError {
  if (error instanceof StatementTimeoutError) {
    return new WarehouseError('WAREHOUSE_TIMEOUT', `${message}: ${error.message}`, { cause: error, batchId });
  }
  return wrapWarehouseError(code, message, error, batchId);
}

/** ≤ 64 characters, as the Data API requires; stable for one chunk and generation. */
export function clientToken(batchId: string, index: number, total: number, generation: number): string {
  return createHash('sha256').update(`${batchId}\0${index}/${total}\0${generation}`).digest('hex');
}

export { redshiftDefaults, type RedshiftWarehouseOptions } from './options.js';
