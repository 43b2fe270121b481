/**
 * How a MinuteBatch becomes BatchExecuteStatement calls, and why that is exactly-once.
 *
 * One call is one transaction (ExecutionMode TRANSACTION, at most 40 statements, each under the
 * 100 KB SQL limit). A call loads one *chunk* of the batch:
 *
 *   LOCK load_batches                                    -- loaders of any batch run one at a time
 *   CREATE TEMP TABLE rta_stage_counts / _visitors       -- staging, private to the call's session
 *   INSERT INTO rta_stage_… VALUES (…),(…),…             -- escaped literals, ≤ maxStatementBytes each
 *   INSERT INTO event_counts    SELECT … FROM rta_stage_counts   WHERE NOT EXISTS (ledger row)
 *   INSERT INTO unique_visitors SELECT … FROM rta_stage_visitors WHERE NOT EXISTS (ledger row)
 *   INSERT INTO unique_visitor_registers SELECT …        -- the sketches' registers, expanded in SQL
 *   INSERT INTO load_batches    SELECT <ledger row>              WHERE NOT EXISTS (ledger row)
 *   DROP TABLE rta_stage_…
 *
 * The guard: the ledger row is written by the *last* insert, so while the earlier inserts run it
 * is present only if it was committed before this transaction began. LOCK load_batches (what
 * AWS recommends against serializable-isolation aborts) makes that check stable: a concurrent
 * loader of the same chunk waits, then sees the committed ledger row and inserts nothing. The
 * ledger insert's row count (DescribeStatement SubStatements[i].ResultRows) says whether this
 * call loaded the chunk (1) or found it loaded (0).
 *
 * Chunks: a batch that fits one call (maxRowsPerCall rows, 32 data statements) has one chunk
 * whose ledger id is the batch id itself. A larger batch is split into n chunks with ledger ids
 * `<batchId>#<k>/<n>`, each its own transaction and idempotent on its own. Rows are sorted
 * (event, dimension, value) before splitting, so the same batch always yields the same chunks
 * whatever order the caller listed them in. A crash between chunks leaves chunks 1..k committed
 * with their ledger rows; the next load of the batch sees them in the ledger (see
 * `readLedgerState`), skips them and loads the rest. `already-loaded` means every chunk (or the
 * bare batch id) is in the ledger. Chunk guards also refuse when the bare batch id is present.
 *
 * Known limit: the chunking depends on maxRowsPerCall/maxStatementBytes. If those change while a
 * batch is half loaded, the ledger shows chunks of another plan and the load stops with an error
 * instead of guessing (a complete other plan counts as loaded).
 */
import type { MinuteBatch } from '../warehouse.js';
import { WarehouseError } from '../errors.js';
import { redshiftRegisterText, sketchRegisters } from '../sketch-formats.js';
import { sqlBytes, sqlInteger, sqlString, sqlTimestamp } from './sql-literals.js';

export interface ChunkLimits {
  maxRowsPerCall: number;
  maxStatementBytes: number;
  maxStatementsPerCall: number;
}

export interface LoadChunk {
  /** 1-based. */
  index: number;
  ledgerId: string;
  counterRows: number;
  visitorRows: number;
  sqls: string[];
  /** Position in `sqls` of the ledger insert, whose row count tells loaded from already-loaded. */
  ledgerStatement: number;
}

/** LOCK, two CREATE, three INSERT…SELECT, the ledger insert, two DROP. */
const FIXED_STATEMENTS = 9;
const STAGE_COUNTS = 'rta_stage_counts';
const STAGE_VISITORS = 'rta_stage_visitors';
/** Ledger ids get `#k/n` appended; load_batches.batch_id is VARCHAR(512) bytes. */
const MAX_BATCH_ID_BYTES = 480;

type Kind = 'counters' | 'visitors';
interface Statement {
  kind: Kind;
  rows: string[];
}

export function planLoad(batch: MinuteBatch, limits: ChunkLimits): LoadChunk[] {
  if (Buffer.byteLength(batch.batchId) > MAX_BATCH_ID_BYTES || batch.batchId === '') {
    throw new WarehouseError('WAREHOUSE_LOAD', `batch id must be 1 to ${MAX_BATCH_ID_BYTES} bytes`, { batchId: batch.batchId });
  }
  const dataStatementsPerCall = limits.maxStatementsPerCall - FIXED_STATEMENTS;
  const groups: Statement[][] = [];
  let chunk: Statement[] = [];
  let chunkRows = 0;
  let current: Statement | undefined;
  let currentBytes = 0;

  const closeChunk = () => {
    if (chunk.length > 0) groups.push(chunk);
    chunk = [];
    chunkRows = 0;
    current = undefined;
  };
  const add = (kind: Kind, literal: string) => {
    const bytes = Buffer.byteLength(literal) + 1;
    if (stageInsertPrefix(kind).length + bytes > limits.maxStatementBytes) {
      throw new WarehouseError('WAREHOUSE_LOAD', `a ${kind} row needs ${bytes} bytes of SQL, over maxStatementBytes`, { batchId: batch.batchId });
    }
    if (chunkRows >= limits.maxRowsPerCall) closeChunk();
    if (!current || current.kind !== kind || currentBytes + bytes > limits.maxStatementBytes) {
      if (chunk.length >= dataStatementsPerCall) closeChunk();
      current = { kind, rows: [] };
      currentBytes = stageInsertPrefix(kind).length;
      chunk.push(current);
    }
    current.rows.push(literal);
    currentBytes += bytes;
    chunkRows++;
  };

  for (const row of sortedCounters(batch)) {
    add('counters', `(${sqlString(row.event)},${sqlString(row.dimension)},${sqlString(row.value)},${sqlInteger(row.count)})`);
  }
  for (const row of sortedVisitors(batch)) {
    const registers = redshiftRegisterText(sketchRegisters(row.sketch, batch.batchId));
    add(
      'visitors',
      `(${sqlString(row.dimension)},${sqlString(row.value)},${sqlInteger(row.visitors)},${sqlBytes(row.sketch)},` +
        `${sqlString(registers.digits)},${registers.width},${registers.entries})`,
    );
  }
  closeChunk();
  if (groups.length === 0) groups.push([]); // an empty batch still records its ledger row

  const total = groups.length;
  return groups.map((statements, i) => buildChunk(batch, statements, i + 1, total));
}

/** `<batchId>` for a one-chunk batch, else `<batchId>#<k>/<n>`. */
export function ledgerId(batchId: string, index: number, total: number): string {
  return total === 1 ? batchId : `${batchId}#${index}/${total}`;
}

function buildChunk(batch: MinuteBatch, statements: Statement[], index: number, total: number): LoadChunk {
  const id = ledgerId(batch.batchId, index, total);
  const ids = total === 1 ? [batch.batchId] : [batch.batchId, id];
  const guard = `NOT EXISTS (SELECT 1 FROM load_batches WHERE ${ids.map((x) => `batch_id = ${sqlString(x)}`).join(' OR ')})`;
  const minute = sqlTimestamp(batch.minute);
  const site = sqlString(batch.site);
  const batchId = sqlString(batch.batchId);
  const counterRows = statements.filter((s) => s.kind === 'counters').reduce((n, s) => n + s.rows.length, 0);
  const visitorRows = statements.filter((s) => s.kind === 'visitors').reduce((n, s) => n + s.rows.length, 0);

  const sqls = ['LOCK load_batches'];
  if (counterRows > 0) {
    sqls.push(`CREATE TEMP TABLE ${STAGE_COUNTS} (event VARCHAR(1024), dimension VARCHAR(64), value VARCHAR(8192), count BIGINT)`);
  }
  if (visitorRows > 0) {
    sqls.push(
      `CREATE TEMP TABLE ${STAGE_VISITORS} (dimension VARCHAR(64), value VARCHAR(8192), visitors BIGINT, sketch VARBYTE(65535), ` +
        `registers VARCHAR(65535), register_width SMALLINT, register_entries INTEGER)`,
    );
  }
  for (const statement of statements) sqls.push(stageInsertPrefix(statement.kind) + statement.rows.join(','));
  if (counterRows > 0) {
    sqls.push(
      `INSERT INTO event_counts (minute, site, event, dimension, value, count, batch_id) ` +
        `SELECT ${minute}, ${site}, event, dimension, value, count, ${batchId} FROM ${STAGE_COUNTS} WHERE ${guard}`,
    );
  }
  if (visitorRows > 0) {
    sqls.push(
      `INSERT INTO unique_visitors (minute, site, dimension, value, visitors, sketch, batch_id) ` +
        `SELECT ${minute}, ${site}, dimension, value, visitors, sketch, ${batchId} FROM ${STAGE_VISITORS} WHERE ${guard}`,
    );
    sqls.push(
      `INSERT INTO unique_visitor_registers (minute, site, dimension, value, batch_id, register_index, register_rank) ` +
        `SELECT ${minute}, ${site}, dimension, value, ${batchId}, register_index, register_rank FROM (${EXPAND_REGISTERS}) AS r ` +
        `WHERE register_rank > 0 AND ${guard}`,
    );
  }
  const ledgerStatement = sqls.length;
  sqls.push(
    `INSERT INTO load_batches (batch_id, site, minute, counter_rows, visitor_rows) ` +
      `SELECT ${sqlString(id)}, ${site}, ${minute}, ${counterRows}, ${visitorRows} WHERE ${guard}`,
  );
  if (counterRows > 0) sqls.push(`DROP TABLE ${STAGE_COUNTS}`);
  if (visitorRows > 0) sqls.push(`DROP TABLE ${STAGE_VISITORS}`);
  return { index, ledgerId: id, counterRows, visitorRows, sqls, ledgerStatement };
}

/**
 * One row per register entry of each staged visitor row, read from the digits of
 * `redshiftRegisterText`: entry k is the `register_width` digits at k × width. Dense entries
 * (width 2) are the rank of register k, zeros included (dropped by the caller's
 * `register_rank > 0`); sparse ones (width 7) are index × 100 + rank. Plain SUBSTRING and CAST,
 * the same on Redshift and PostgreSQL, one SUBSTRING per entry; `rta_register_numbers` holds
 * 0–16383 (see _migrate.sql).
 */
const EXPAND_REGISTERS =
  `SELECT dimension, value, ` +
  `CASE WHEN register_width = 2 THEN n ELSE entry / 100 END AS register_index, ` +
  `CASE WHEN register_width = 2 THEN entry ELSE entry % 100 END AS register_rank ` +
  `FROM (SELECT s.dimension, s.value, s.register_width, n.n, ` +
  `CAST(SUBSTRING(s.registers, s.register_width * n.n + 1, s.register_width) AS INTEGER) AS entry ` +
  `FROM ${STAGE_VISITORS} s JOIN rta_register_numbers n ON n.n < s.register_entries) AS e`;

function stageInsertPrefix(kind: Kind): string {
  return `INSERT INTO ${kind === 'counters' ? STAGE_COUNTS : STAGE_VISITORS} VALUES `;
}

function sortedCounters(batch: MinuteBatch) {
  return [...batch.counters].sort(
    (a, b) => byBytes(a.event, b.event) || byBytes(a.dimension, b.dimension) || byBytes(a.value, b.value) || Number(a.count - b.count),
  );
}

function sortedVisitors(batch: MinuteBatch) {
  return [...batch.visitors].sort(
    (a, b) => byBytes(a.dimension, b.dimension) || byBytes(a.value, b.value) || Buffer.compare(Buffer.from(a.sketch), Buffer.from(b.sketch)),
  );
}

function byBytes(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** What the ledger already holds of a batch planned as `total` chunks. */
export type LedgerState = { complete: true } | { complete: false; loadedChunks: Set<number> };

/** The query that finds a batch's ledger rows: the bare id and every `<batchId>#…` id. */
export function ledgerLookupSql(batchId: string): string {
  const prefix = `${batchId}#`;
  return (
    `SELECT batch_id FROM load_batches WHERE batch_id = ${sqlString(batchId)} ` +
    `OR left(batch_id, ${[...prefix].length}) = ${sqlString(prefix)}`
  );
}

/** Reads the ledger rows found by `ledgerLookupSql` against a plan of `total` chunks. */
export function readLedgerState(batchId: string, total: number, ledgerIds: string[]): LedgerState {
  const plans = new Map<number, Set<number>>();
  for (const id of ledgerIds) {
    if (id === batchId) return { complete: true };
    const match = /^(\d+)\/(\d+)$/.exec(id.slice(batchId.length + 1));
    if (!id.startsWith(`${batchId}#`) || !match) continue; // another batch whose id starts with ours
    const [k, n] = [Number(match[1]), Number(match[2])];
    plans.set(n, (plans.get(n) ?? new Set()).add(k));
  }
  for (const [n, chunks] of plans) if (chunks.size === n) return { complete: true };
  const other = [...plans.keys()].filter((n) => n !== total);
  if (other.length > 0) {
    throw new WarehouseError(
      'WAREHOUSE_LOAD',
      `batch is partly loaded as ${other[0]} chunks but now splits into ${total}; restore the chunk settings (maxRowsPerCall, maxStatementBytes) it was loaded with`,
      { batchId },
    );
  }
  return { complete: false, loadedChunks: plans.get(total) ?? new Set() };
}
