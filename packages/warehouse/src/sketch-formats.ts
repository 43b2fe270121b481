/**
 * The one place where a minute's Redis HyperLogLog (`VisitorRow.sketch`) becomes the form each
 * warehouse merges in SQL. Every adapter stores `sketch` verbatim and adds one derived form,
 * computed here at load time:
 *
 * | Warehouse            | Stored as                                   | Built by                  |
 * |----------------------|---------------------------------------------|---------------------------|
 * | DuckDB, PostgreSQL   | `unique_visitors.registers INTEGER[]`       | `packedSketchRegisters`   |
 * | Redshift             | table `unique_visitor_registers`, one row per non-zero register, expanded in SQL from `redshiftRegisterText` | `redshiftRegisterText` |
 * | Snowflake            | `unique_visitors.hll` (HLL_EXPORT object)   | `snowflakeHllImport`      |
 *
 * All conversions are exact: the p=14 forms hold the very registers Redis holds, the Snowflake
 * form the exact p=12 down-sampling (`@rta/hll` `downsampleToPrecision12`). A sketch that does
 * not decode fails the load (WAREHOUSE_LOAD): a wrong number is worse than a stopped flush.
 */
import { HllFormatError, decodeRedisHll, downsampleToPrecision12, forEachRedisHllRegister, toSnowflakeHllExport } from '@rta/hll';
import { WarehouseError } from './errors.js';

/** A packed register is `index * 64 + rank` (index 0–16383, rank 1–51), so it fits 20 bits. */
export const PACKED_RANK_BITS = 6;
const RANK_MASK = (1 << PACKED_RANK_BITS) - 1;

/** The 16,384 registers of a Redis HyperLogLog string; throws WAREHOUSE_LOAD naming the batch. */
export function sketchRegisters(sketch: Uint8Array, batchId: string): Uint8Array {
  return asLoadError(() => decodeRedisHll(sketch).registers, batchId);
}

/**
 * `packedRegisters(sketchRegisters(sketch))` straight from the Redis string, without the 16,384
 * registers in between: a minute's sketches are mostly sparse strings of a few visitors.
 */
export function packedSketchRegisters(sketch: Uint8Array, batchId: string): number[] {
  const packed: number[] = [];
  asLoadError(() => forEachRedisHllRegister(sketch, (index, rank) => packed.push((index << PACKED_RANK_BITS) | rank)), batchId);
  return packed;
}

function asLoadError<T>(decode: () => T, batchId: string): T {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof HllFormatError)) throw error;
    throw new WarehouseError('WAREHOUSE_LOAD', `a visitor sketch is not a Redis HyperLogLog: ${error.message}`, {
      cause: error,
      batchId,
    });
  }
}

/** The non-zero registers as packed integers, ascending by index. Empty for an empty sketch. */
export function packedRegisters(registers: Uint8Array): number[] {
  const packed: number[] = [];
  for (let index = 0; index < registers.length; index++) {
    const rank = registers[index]!;
    if (rank !== 0) packed.push((index << PACKED_RANK_BITS) | rank);
  }
  return packed;
}

/** Inverse of `packedRegisters` for 16,384 registers (tests and tools). */
export function unpackRegisters(packed: Iterable<number>): Uint8Array {
  const registers = new Uint8Array(16_384);
  for (const value of packed) registers[value >> PACKED_RANK_BITS] = value & RANK_MASK;
  return registers;
}

/**
 * The registers as digits only, for Redshift to expand with `SUBSTRING` and `CAST(… AS
 * INTEGER)` (no byte functions needed, and the same SQL runs on PostgreSQL): `entries` entries
 * of `width` digits each, whichever form is shorter:
 * - sparse (width 7): per non-zero register its index × 100 + rank, zero-padded (5 + 2 digits);
 * - dense (width 2): every register's rank, all 16,384 of them, zeros included.
 * So `digits` is at most 32,768 characters: a staged row (plus the 24.6 KB hex of a dense Redis
 * string) stays under the Data API's 100 KB statement limit and inside VARCHAR(65535).
 */
export interface RedshiftRegisterText {
  digits: string;
  width: 2 | 7;
  entries: number;
}

export const REDSHIFT_DENSE_TEXT_LENGTH = 2 * 16_384;

export function redshiftRegisterText(registers: Uint8Array): RedshiftRegisterText {
  const packed = packedRegisters(registers);
  if (packed.length * 7 < REDSHIFT_DENSE_TEXT_LENGTH) {
    const digits = packed
      .map((value) => String((value >> PACKED_RANK_BITS) * 100 + (value & RANK_MASK)).padStart(7, '0'))
      .join('');
    return { digits, width: 7, entries: packed.length };
  }
  return { digits: Array.from(registers, (rank) => String(rank).padStart(2, '0')).join(''), width: 2, entries: registers.length };
}

/** The `HLL_EXPORT` JSON text of the exact p=12 down-sampling, for `HLL_IMPORT`. */
export function snowflakeHllImport(registers: Uint8Array): string {
  return JSON.stringify(toSnowflakeHllExport(downsampleToPrecision12(registers)));
}
