import { loadOneByOne, type Warehouse } from '../warehouse.js';
import { wrapWarehouseError } from '../errors.js';
import { compileNamedParams } from '../named-params.js';
import { readSql, splitStatements } from '../sql-files.js';
import { SerialQueue } from '../serial-queue.js';
import { configureDriverLogging, isTransient, SnowflakeSession } from './driver.js';
import { CREATE_STAGING, commitBatch, stageBatch } from './load.js';
import { resolveSnowflakeOptions, type SnowflakeWarehouseOptions } from './options.js';
import { toBind, toQueryRows } from './values.js';

export { snowflakeDefaults, type SnowflakeWarehouseOptions } from './options.js';

/**
 * Snowflake through snowflake-sdk. One session, opened on first use and reused across flushes
 * until it sits unused for `idleTimeoutMs`; operations run one at a time on it (a Snowflake
 * transaction belongs to its session). A transient failure (network, expired or vanished
 * session) closes the session (Snowflake rolls back its open transaction) and the whole
 * operation is tried again on a new one, up to `maxAttempts`; a load stays idempotent across
 * attempts because its ledger row commits with its rows. A timeout (`connectTimeoutMs` to log
 * in, `statementTimeoutMs` per statement, see SnowflakeSession) drops the session and fails the
 * operation with WAREHOUSE_TIMEOUT. Any other failure rolls back and is reported as a
 * WarehouseError with the batch id.
 */
export function createSnowflakeWarehouse(options: SnowflakeWarehouseOptions): Warehouse {
  const settings = resolveSnowflakeOptions(options);
  configureDriverLogging(settings);
  const queue = new SerialQueue();
  let current: Promise<SnowflakeSession> | undefined;
  let closed = false;

  /** The open session, or a new one with its session setup done. */
  async function session(): Promise<SnowflakeSession> {
    const open = await current?.catch(() => undefined);
    if (open && !open.isUsable()) await dropSession();
    current ??= (async () => {
      const opened = await SnowflakeSession.open(settings);
      try {
        // A lock wait ends before the statement's own timeout, so it fails as a lock timeout.
        const statementSeconds = Math.ceil(settings.statementTimeoutMs / 1_000);
        const lockSeconds = Math.min(settings.lockTimeoutSeconds, statementSeconds);
        await opened.execute(`ALTER SESSION SET LOCK_TIMEOUT = ${lockSeconds} STATEMENT_TIMEOUT_IN_SECONDS = ${statementSeconds}`);
        for (const statement of CREATE_STAGING) await opened.execute(statement);
      } catch (error) {
        await opened.close();
        throw error;
      }
      return opened;
    })();
    const opening = current;
    opening.catch(() => {
      if (current === opening) current = undefined;
    });
    return opening;
  }

  /**
   * Forgets the session and ends it. Only `close()` waits for the end: a Snowflake that does not
   * answer must not hold up the failure being reported (ending is bounded by connectTimeoutMs).
   */
  async function dropSession(wait = false): Promise<void> {
    const dropped = current;
    current = undefined;
    const ending = dropped?.then((s) => s.close(), () => undefined);
    if (wait) await ending;
  }

  /** Runs `work` on a session, again on a new session after a transient failure. */
  function withSession<T>(work: (s: SnowflakeSession) => Promise<T>): Promise<T> {
    return queue.run(async () => {
      if (closed) throw new Error('the Snowflake warehouse is closed');
      for (let attempt = 1; ; attempt++) {
        let active: SnowflakeSession | undefined;
        try {
          active = await session();
          return await work(active);
        } catch (error) {
          if (isTransient(error) && attempt < settings.maxAttempts) {
            await dropSession();
            await new Promise((resolve) => setTimeout(resolve, settings.retryBackoffMs * 2 ** (attempt - 1)));
            continue;
          }
          if (active?.isUsable()) await active.execute('ROLLBACK').catch(() => dropSession());
          else await dropSession();
          throw error;
        }
      }
    });
  }

  const warehouse: Warehouse = {
    dialect: 'snowflake',

    async migrate() {
      try {
        await withSession(async (s) => {
          for (const statement of splitStatements(readSql('snowflake', '_migrate'))) await s.execute(statement);
        });
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_MIGRATE', 'Snowflake migration failed', error);
      }
    },

    async load(batch) {
      try {
        return await withSession(async (s) => {
          await stageBatch(s, batch, settings);
          return commitBatch(s, batch, settings.hooks);
        });
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_LOAD', 'Snowflake load failed', error, batch.batchId);
      }
    },

    loadBatches(batches) {
      return loadOneByOne(warehouse, batches);
    },

    async query(sql, params = {}) {
      try {
        const compiled = compileNamedParams(sql, params, 'question-mark');
        const binds = compiled.values.map(toBind);
        return await withSession(async (s) => {
          const outcome = await s.execute(compiled.sql, binds);
          return toQueryRows(outcome.rows, outcome.columns);
        });
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_QUERY', 'Snowflake query failed', error);
      }
    },

    async execute(sql, params = {}) {
      await this.query(sql, params);
    },

    async close() {
      await queue.run(async () => {
        closed = true;
        await dropSession(true);
      });
    },
  };
  return warehouse;
}
