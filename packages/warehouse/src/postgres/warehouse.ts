import pg from 'pg';
import type { LoadHooks, LoadResult, MinuteBatch, QueryRow, Warehouse } from '../warehouse.js';
import { wrapWarehouseError } from '../errors.js';
import { compileNamedParams } from '../named-params.js';
import { readSql, splitStatements } from '../sql-files.js';
import { packedRegisters, sketchRegisters } from '../sketch-formats.js';

export interface PostgresWarehouseOptions {
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

export function createPostgresWarehouse(options: PostgresWarehouseOptions): Warehouse {
  const schema = options.schema ?? postgresDefaults.schema;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? postgresDefaults.maxConnections,
    options: `-c search_path=${schema}`,
    types,
  });
  pool.on('error', () => undefined); // an idle client dropped by the server; the next checkout reconnects

  return {
    dialect: 'postgres',

    async migrate() {
      const client = await connect(pool);
      try {
        // Serialise concurrent migrations (several flushers starting at once).
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(7317001)');
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        for (const statement of splitStatements(readSql('postgres', '_migrate'))) await client.query(statement);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw wrapWarehouseError('WAREHOUSE_MIGRATE', 'PostgreSQL migration failed', error);
      } finally {
        client.release();
      }
    },

    async load(batch) {
      const client = await connect(pool, batch.batchId);
      try {
        return await loadInTransaction(client, batch, options.hooks);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw wrapWarehouseError('WAREHOUSE_LOAD', 'PostgreSQL load failed', error, batch.batchId);
      } finally {
        client.release();
      }
    },

    async query(sql, params = {}) {
      const compiled = compileNamedParams(sql, params, 'dollar-number');
      const values = compiled.values.map((v) => (v instanceof Date ? utcTimestamp(v) : v));
      try {
        const result = await pool.query(compiled.sql, values);
        return result.rows as QueryRow[];
      } catch (error) {
        throw wrapWarehouseError('WAREHOUSE_QUERY', 'PostgreSQL query failed', error);
      }
    },

    async close() {
      await pool.end();
    },
  };
}

async function connect(pool: pg.Pool, batchId?: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw wrapWarehouseError('WAREHOUSE_CONNECT', 'cannot connect to PostgreSQL', error, batchId);
  }
}

async function loadInTransaction(client: pg.PoolClient, batch: MinuteBatch, hooks: LoadHooks | undefined): Promise<LoadResult> {
  const minute = utcTimestamp(batch.minute);
  await client.query('BEGIN');
  // A concurrent load of the same id waits here on the primary key until the first one ends.
  const ledger = await client.query(
    `INSERT INTO load_batches (batch_id, site, minute, counter_rows, visitor_rows)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (batch_id) DO NOTHING`,
    [batch.batchId, batch.site, minute, batch.counters.length, batch.visitors.length],
  );
  if (ledger.rowCount === 0) {
    await client.query('ROLLBACK');
    return { status: 'already-loaded', counterRows: 0, visitorRows: 0 };
  }
  // One statement per table whatever the row count: arrays bound as parameters, unnested server-side.
  await client.query(
    `INSERT INTO event_counts (minute, site, event, dimension, value, count, batch_id)
     SELECT $1::timestamp, $2, e, d, v, c, $3
     FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[]) AS t(e, d, v, c)`,
    [
      minute,
      batch.site,
      batch.batchId,
      batch.counters.map((r) => r.event),
      batch.counters.map((r) => r.dimension),
      batch.counters.map((r) => r.value),
      batch.counters.map((r) => r.count.toString()),
    ],
  );
  // Registers travel as one JSON array of arrays (PostgreSQL arrays must be rectangular).
  const registers = batch.visitors.map((r) => packedRegisters(sketchRegisters(r.sketch, batch.batchId)));
  await client.query(
    `INSERT INTO unique_visitors (minute, site, dimension, value, visitors, sketch, batch_id, registers)
     SELECT $1::timestamp, $2, d, v, n, s, $3,
       ARRAY(SELECT jsonb_array_elements_text($8::jsonb -> (o::int - 1))::int)
     FROM unnest($4::text[], $5::text[], $6::bigint[], $7::bytea[]) WITH ORDINALITY AS t(d, v, n, s, o)`,
    [
      minute,
      batch.site,
      batch.batchId,
      batch.visitors.map((r) => r.dimension),
      batch.visitors.map((r) => r.value),
      batch.visitors.map((r) => r.visitors),
      batch.visitors.map((r) => Buffer.from(r.sketch)),
      JSON.stringify(registers),
    ],
  );
  await hooks?.beforeCommit?.(batch);
  await client.query('COMMIT');
  return { status: 'loaded', counterRows: batch.counters.length, visitorRows: batch.visitors.length };
}
