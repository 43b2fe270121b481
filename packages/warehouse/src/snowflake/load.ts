/**
 * How a MinuteBatch reaches Snowflake. The SQL the adapter runs besides `_migrate.sql` is all
 * here.
 *
 * 1. Staging, outside any transaction. Session-private TEMPORARY tables (created once per
 *    session, before any transaction: DDL would commit an open one) receive the rows by array
 *    binds, one round trip per chunk of `chunkRows` rows or `maxBindBytes` bytes of SQL and
 *    bound values (Snowflake recommends at most 1 MB per statement, binds included). The binds
 *    have the shapes Snowflake documents for array binding: plain `VALUES (?, …)`, and for a
 *    value that needs a function, `INSERT … SELECT …, TO_BINARY(column5, 'HEX') … FROM VALUES
 *    (?, …)` (VALUES itself takes constants only). Each staged row carries its ordinal `seq`, so
 *    a chunk applied twice (a replayed request) stays one set.
 * 2. One transaction: a MERGE writes the ledger row unless the batch id is there (0 rows
 *    inserted → ROLLBACK, `already-loaded`). MERGE takes the table lock in Snowflake, so two
 *    sessions loading the same batch serialise on it and the second sees the first's row. Then
 *    one INSERT … SELECT per table moves the staged rows in, stamping minute, site and batch id;
 *    its row count must equal the batch's. Then the hook, then COMMIT.
 *
 * Exactly once does not rest on Snowflake answering a retried request (same requestId) without
 * running it again: a statement run twice either changes nothing (DISTINCT over `seq`, the NOT
 * EXISTS guard) or is detected (row count, ledger re-check) and the attempt is rolled back and
 * retried on a new session.
 *
 * The transaction holds only those few statements, so a client killed mid-load leaves an open
 * transaction for milliseconds' worth of work, which ends with its session.
 */
import type { Bind } from 'snowflake-sdk';
import type { LoadHooks, LoadResult, MinuteBatch } from '../warehouse.js';
import { RetryLoadError, type SnowflakeSession } from './driver.js';
import { toBind, utcWallClock } from './values.js';
import { sketchRegisters, snowflakeHllImport } from '../sketch-formats.js';

export const STAGE_COUNTERS = 'rta_stage_event_counts';
export const STAGE_VISITORS = 'rta_stage_unique_visitors';

export const CREATE_STAGING = [
  `CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGE_COUNTERS} (
     seq NUMBER(38,0), event VARCHAR, dimension VARCHAR, value VARCHAR, count NUMBER(38,0))`,
  `CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGE_VISITORS} (
     seq NUMBER(38,0), dimension VARCHAR, value VARCHAR, visitors NUMBER(38,0), sketch BINARY, hll VARCHAR)`,
];

export const INSERT_STAGE_COUNTERS = `INSERT INTO ${STAGE_COUNTERS} (seq, event, dimension, value, count) VALUES (?, ?, ?, ?, ?)`;
// `hll` is staged as JSON text and parsed by MOVE_VISITORS (PARSE_JSON needs no array bind there).
export const INSERT_STAGE_VISITORS =
  `INSERT INTO ${STAGE_VISITORS} (seq, dimension, value, visitors, sketch, hll) ` +
  `SELECT column1, column2, column3, column4, TO_BINARY(column5, 'HEX'), column6 FROM VALUES (?, ?, ?, ?, ?, ?)`;

const MERGE_LEDGER = `MERGE INTO load_batches AS t
USING (SELECT ? AS batch_id) AS s ON t.batch_id = s.batch_id
WHEN NOT MATCHED THEN INSERT (batch_id, site, minute, counter_rows, visitor_rows, loaded_at)
  VALUES (s.batch_id, ?, CAST(? AS TIMESTAMP_NTZ), ?, ?, SYSDATE())`;

// Binds: minute, site, batch id, then minute, site, batch id again for the NOT EXISTS guard,
// which makes a replayed statement insert nothing (the row count check then fails the attempt).
const MOVE_COUNTERS = `INSERT INTO event_counts (minute, site, event, dimension, value, count, batch_id)
SELECT CAST(? AS TIMESTAMP_NTZ), ?, event, dimension, value, count, ?
FROM (SELECT DISTINCT seq, event, dimension, value, count FROM ${STAGE_COUNTERS})
WHERE NOT EXISTS (SELECT 1 FROM event_counts
  WHERE minute = CAST(? AS TIMESTAMP_NTZ) AND site = ? AND batch_id = ?)`;

const MOVE_VISITORS = `INSERT INTO unique_visitors (minute, site, dimension, value, visitors, sketch, batch_id, hll)
SELECT CAST(? AS TIMESTAMP_NTZ), ?, dimension, value, visitors, sketch, ?, PARSE_JSON(hll)
FROM (SELECT DISTINCT seq, dimension, value, visitors, sketch, hll FROM ${STAGE_VISITORS})
WHERE NOT EXISTS (SELECT 1 FROM unique_visitors
  WHERE minute = CAST(? AS TIMESTAMP_NTZ) AND site = ? AND batch_id = ?)`;

const LEDGER_HAS = 'SELECT count(*) AS n FROM load_batches WHERE batch_id = ?';

export interface ChunkLimits {
  chunkRows: number;
  maxBindBytes: number;
}

/**
 * Bytes a value adds to the request body as the driver sends an array bind: its text as a JSON
 * string (numbers and booleans are sent as text too) and a comma.
 */
function boundBytes(value: Bind): number {
  return value === null || value === undefined ? 5 : Buffer.byteLength(JSON.stringify(String(value))) + 1;
}

/** Per bind column: `"12":{"type":"VARIANT","value":[…]},`. */
const COLUMN_OVERHEAD = 40;

/**
 * Splits rows into array-bind chunks of at most `chunkRows` rows whose SQL text plus bound values
 * stay within `maxBindBytes`. A single row larger than that is refused: Snowflake would get a
 * request over the limit.
 */
export function chunkRows(sql: string, rows: Bind[][], limits: ChunkLimits): Bind[][][] {
  const chunks: Bind[][][] = [];
  const fixed = Buffer.byteLength(JSON.stringify(sql)) + COLUMN_OVERHEAD * (rows[0]?.length ?? 0);
  let current: Bind[][] = [];
  let bytes = fixed;
  for (const row of rows) {
    const size = row.reduce<number>((sum, v) => sum + boundBytes(v), 0);
    if (fixed + size > limits.maxBindBytes) {
      throw new Error(`a staged row needs ${fixed + size} bytes of request, more than maxBindBytes (${limits.maxBindBytes})`);
    }
    if (current.length > 0 && (current.length >= limits.chunkRows || bytes + size > limits.maxBindBytes)) {
      chunks.push(current);
      current = [];
      bytes = fixed;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Fills the session's staging tables with the batch's rows (step 1). */
export async function stageBatch(session: SnowflakeSession, batch: MinuteBatch, limits: ChunkLimits): Promise<void> {
  await session.execute(`DELETE FROM ${STAGE_COUNTERS}`);
  await session.execute(`DELETE FROM ${STAGE_VISITORS}`);
  const counters = batch.counters.map((r, i): Bind[] => [i, r.event, r.dimension, r.value, toBind(r.count)]);
  for (const chunk of chunkRows(INSERT_STAGE_COUNTERS, counters, limits)) await session.execute(INSERT_STAGE_COUNTERS, chunk);
  const visitors = batch.visitors.map((r, i): Bind[] => [
    i,
    r.dimension,
    r.value,
    r.visitors,
    Buffer.from(r.sketch).toString('hex'),
    snowflakeHllImport(sketchRegisters(r.sketch, batch.batchId)),
  ]);
  for (const chunk of chunkRows(INSERT_STAGE_VISITORS, visitors, limits)) await session.execute(INSERT_STAGE_VISITORS, chunk);
}

/** Step 2: the transaction. The caller rolls back if this throws. */
export async function commitBatch(session: SnowflakeSession, batch: MinuteBatch, hooks: LoadHooks | undefined): Promise<LoadResult> {
  const minute = utcWallClock(batch.minute);
  await session.execute('BEGIN TRANSACTION');
  const ledger = await session.execute(MERGE_LEDGER, [
    batch.batchId,
    batch.site,
    minute,
    batch.counters.length,
    batch.visitors.length,
  ]);
  if (ledger.updated === 0) {
    await session.execute('ROLLBACK');
    // Committed by an earlier load, or our own MERGE run twice (a retried request the server
    // executed again) and now rolled back: only the first is `already-loaded`.
    const [row] = (await session.execute(LEDGER_HAS, [batch.batchId])).rows;
    if (Number(Object.values(row ?? {})[0] ?? 0) > 0) return { status: 'already-loaded', counterRows: 0, visitorRows: 0 };
    throw new RetryLoadError('the ledger MERGE saw its own uncommitted row: a replayed request');
  }
  const moves: Array<[string, number, string]> = [
    [MOVE_COUNTERS, batch.counters.length, 'event_counts'],
    [MOVE_VISITORS, batch.visitors.length, 'unique_visitors'],
  ];
  for (const [sql, expected, table] of moves) {
    if (expected === 0) continue;
    const moved = await session.execute(sql, [minute, batch.site, batch.batchId, minute, batch.site, batch.batchId]);
    if (moved.updated !== expected) {
      throw new RetryLoadError(`moved ${moved.updated} rows into ${table}, expected ${expected}`);
    }
  }
  await hooks?.beforeCommit?.(batch);
  await session.execute('COMMIT');
  return { status: 'loaded', counterRows: batch.counters.length, visitorRows: batch.visitors.length };
}
