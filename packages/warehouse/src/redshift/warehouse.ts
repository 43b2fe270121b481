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
 * `beforeCommit` hook: Data API transactions run server-side, so there is no moment between the
 * last row and COMMIT. The hook runs after the batch is planned and the ledger checked, before
 * the first call is submitted; throwing leaves the warehouse unchanged.
 */
import { createHash } from 'node:crypto';
import type { LoadResult, MinuteBatch, QueryParams, QueryRow, Warehouse } from '../warehouse.js';
import { wrapWarehouseError } from '../errors.js';
import { readSql, splitStatements } from '../sql-files.js';
import { DataApi, StatementFailedError, StatementTimeoutError } from './data-api.js';
import { ledgerLookupSql, planLoad, readLedgerState, type LoadChunk } from './load-plan.js';
import { redshiftDefaults, resolveRedshiftOptions, type RedshiftWarehouseOptions } from './options.js';
import { toRows } from './result-rows.js';
import { compileDataApiParams, type DataApiStatement } from './sql-literals.js';

/** A concurrent CREATE TABLE IF NOT EXISTS lost its race; running the migration again is a no-op. */
const MIGRATION_RACE = /already exists|duplicate key|concurrent|serializable isolation/i;

export function createRedshiftWarehouse(options: RedshiftWarehouseOptions): Warehouse {
  const settings = resolveRedshiftOptions(options);
  const api = new DataApi(settings);
  const limits = { ...redshiftDefaults.chunking, ...settings };
  /** Ledger id → token generation, for chunks whose last statement did not finish. */
  const generations = new Map<string, number>();
  /** Loads of one batch id in this process run one after the other. */
  const inFlight = new Map<string, Promise<unknown>>();

  async function run(statement: DataApiStatement): Promise<QueryRow[]> {
    const id = await api.execute(statement);
    const described = await api.wait(id);
    if (!described.HasResultSet) return [];
    const { columns, records } = await api.results(id);
    return toRows(columns, records);
  }

  async function loadChunk(batch: MinuteBatch, chunk: LoadChunk, total: number): Promise<boolean> {
    const generation = generations.get(chunk.ledgerId) ?? 0;
    try {
      const id = await api.batch(chunk.sqls, clientToken(batch.batchId, chunk.index, total, generation));
      const described = await api.wait(id);
      generations.delete(chunk.ledgerId);
      const ledgerRows = described.SubStatements?.[chunk.ledgerStatement]?.ResultRows;
      return ledgerRows === undefined || ledgerRows < 0 ? true : ledgerRows > 0;
    } catch (error) {
      if (error instanceof StatementFailedError || error instanceof StatementTimeoutError) {
        generations.set(chunk.ledgerId, generation + 1);
      }
      const where = total === 1 ? '' : ` (chunk ${chunk.index} of ${total})`;
      throw wrapWarehouseError('WAREHOUSE_LOAD', `Redshift load failed${where}`, error, batch.batchId);
    }
  }

  async function loadOnce(batch: MinuteBatch): Promise<LoadResult> {
    const chunks = planLoad(batch, limits);
    let ledgerIds: string[];
    try {
      ledgerIds = (await run({ sql: ledgerLookupSql(batch.batchId) })).map((row) => String(row.batch_id));
    } catch (error) {
      throw wrapWarehouseError('WAREHOUSE_LOAD', 'Redshift ledger lookup failed', error, batch.batchId);
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

  return {
    dialect: 'redshift',

    async migrate() {
      const sqls = splitStatements(readSql('redshift', '_migrate'));
      for (let attempt = 1; ; attempt++) {
        try {
          await api.wait(await api.batch(sqls));
          return;
        } catch (error) {
          const raced = error instanceof StatementFailedError && MIGRATION_RACE.test(error.message);
          if (!raced || attempt >= settings.maxAttempts) {
            throw wrapWarehouseError('WAREHOUSE_MIGRATE', 'Redshift migration failed', error);
          }
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

    async query(sql: string, params: QueryParams = {}) {
      try {
        return await run(compileDataApiParams(sql, params));
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_QUERY', 'Redshift query failed', error);
      }
    },

    async close() {
      api.close();
    },
  };
}

/** ≤ 64 characters, as the Data API requires; stable for one chunk and generation. */
export function clientToken(batchId: string, index: number, total: number, generation: number): string {
  return createHash('sha256').update(`${batchId}\0${index}/${total}\0${generation}`).digest('hex');
}

export { redshiftDefaults, type RedshiftWarehouseOptions } from './options.js';
