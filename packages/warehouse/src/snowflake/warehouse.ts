import type { Warehouse } from '../warehouse.js';
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
 * Snowflake through snowflake-sdk. One session, opened on first use and reused across flushes;
 * operations run one at a time on it (a Snowflake transaction belongs to its session). A
 * transient failure (network, expired or vanished session) closes the session (Snowflake rolls
 * back its open transaction) and the whole operation is tried again on a new one, up to
 * `maxAttempts`; a load stays idempotent across attempts because its ledger row commits with
 * its rows. Any other failure rolls back and is reported as a WarehouseError with the batch id.
 */
export function createSnowflakeWarehouse(options: SnowflakeWarehouseOptions): Warehouse {
  const settings = resolveSnowflakeOptions(options);
  configureDriverLogging(settings);
  const queue = new SerialQueue();
  let current: Promise<SnowflakeSession> | undefined;
  let closed = false;

  /** The open session, or a new one with its session setup done. */
  function session(): Promise<SnowflakeSession> {
    current ??= (async () => {
      const opened = await SnowflakeSession.open(settings);
      try {
        await opened.execute(`ALTER SESSION SET LOCK_TIMEOUT = ${settings.lockTimeoutSeconds}`);
        for (const statement of CREATE_STAGING) await opened.execute(statement);
      } catch (error) {
        await opened.close();
        throw error;
      }
      return opened;
    })();
    current.catch(() => {
      current = undefined;
    });
    return current;
  }

  async function dropSession(): Promise<void> {
    const dropped = current;
    current = undefined;
    await (await dropped?.catch(() => undefined))?.close();
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
          if (active) await active.execute('ROLLBACK').catch(() => dropSession());
          throw error;
        }
      }
    });
  }

  return {
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

    async close() {
      await queue.run(async () => {
        closed = true;
        await dropSession();
      });
    },
  };
}
