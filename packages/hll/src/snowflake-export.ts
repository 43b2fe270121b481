/**
 * Snowflake's `HLL_EXPORT` JSON for a p=12 sketch (warehouse protocol reference, section 4.2),
 * to load with `HLL_IMPORT` and combine with `HLL_COMBINE`.
 *
 * - Dense: `{"version":4,"precision":12,"dense":[4096 ranks]}`.
 * - Sparse: `{"version":4,"precision":12,"sparse":{"indices":[…],"maxLzCounts":[…]}}`, the
 *   non-zero registers only, indices ascending.
 * A rank is 0 (never hit) to 53. Version 4 is what real exports carry; the docs' examples show
 * 3, which `parseSnowflakeHllExport` also accepts. Only sketches built by this package (same
 * hash) can be meaningfully combined: Snowflake's own hash is undocumented.
 */
import { HllFormatError } from './errors.js';
import { SNOWFLAKE_PRECISION, SNOWFLAKE_REGISTER_COUNT, assertRegisters, maxRank } from './precision.js';

/** The version this package stamps on exports. */
export const SNOWFLAKE_HLL_EXPORT_VERSION = 4;
const ACCEPTED_VERSIONS: readonly number[] = [3, 4];

export interface SnowflakeDenseHllExport {
  version: number;
  precision: typeof SNOWFLAKE_PRECISION;
  /** 4,096 ranks, register 0 first. */
  dense: number[];
}

export interface SnowflakeSparseHllExport {
  version: number;
  precision: typeof SNOWFLAKE_PRECISION;
  sparse: {
    /** Register indices, 0–4095, without duplicates. */
    indices: number[];
    /** The rank of the register at the same position in `indices`. */
    maxLzCounts: number[];
  };
}

export type SnowflakeHllExport = SnowflakeDenseHllExport | SnowflakeSparseHllExport;

export interface SnowflakeExportOptions {
  /** `'auto'` picks whichever form serialises to the shorter JSON text. Default `'auto'`. */
  form?: 'auto' | 'dense' | 'sparse';
}

export const snowflakeExportDefaults = { form: 'auto' } as const satisfies Required<SnowflakeExportOptions>;

/** The `HLL_EXPORT` object for 4,096 p=12 registers (see `downsampleToPrecision12`). */
export function toSnowflakeHllExport(
  registers: Uint8Array,
  options: SnowflakeExportOptions = {},
): SnowflakeHllExport {
  assertRegisters(registers, SNOWFLAKE_PRECISION);
  const form = options.form ?? snowflakeExportDefaults.form;
  const dense: SnowflakeDenseHllExport = {
    version: SNOWFLAKE_HLL_EXPORT_VERSION,
    precision: SNOWFLAKE_PRECISION,
    dense: Array.from(registers),
  };
  if (form === 'dense') return dense;

  const indices: number[] = [];
  const maxLzCounts: number[] = [];
  registers.forEach((rank, index) => {
    if (rank !== 0) {
      indices.push(index);
      maxLzCounts.push(rank);
    }
  });
  const sparse: SnowflakeSparseHllExport = {
    version: SNOWFLAKE_HLL_EXPORT_VERSION,
    precision: SNOWFLAKE_PRECISION,
    sparse: { indices, maxLzCounts },
  };
  if (form === 'sparse') return sparse;
  return JSON.stringify(sparse).length < JSON.stringify(dense).length ? sparse : dense;
}

/**
 * The 4,096 registers of an `HLL_EXPORT` document (a JSON string or an already parsed value).
 * Throws `HllFormatError` with code `BAD_SNOWFLAKE_EXPORT` (or `REGISTER_OVERFLOW` for a rank
 * above 53) unless it has exactly one of the two documented forms.
 */
export function parseSnowflakeHllExport(input: unknown): Uint8Array {
  let document: unknown = input;
  if (typeof input === 'string') {
    try {
      document = JSON.parse(input);
    } catch (cause) {
      throw new HllFormatError('BAD_SNOWFLAKE_EXPORT', 'HLL_EXPORT text is not JSON', { cause });
    }
  }
  if (!isRecord(document)) fail('the document is not a JSON object');
  if (!ACCEPTED_VERSIONS.includes(document.version as number)) fail(`unsupported version ${String(document.version)}`);
  if (document.precision !== SNOWFLAKE_PRECISION) fail(`precision must be 12, got ${String(document.precision)}`);
  if (('dense' in document) === ('sparse' in document)) fail('exactly one of "dense" and "sparse" is required');

  const registers = new Uint8Array(SNOWFLAKE_REGISTER_COUNT);
  if ('dense' in document) {
    const dense = document.dense;
    if (!Array.isArray(dense) || dense.length !== SNOWFLAKE_REGISTER_COUNT) fail('"dense" must be an array of 4096 ranks');
    dense.forEach((rank: unknown, index) => {
      registers[index] = checkRank(rank, index);
    });
    return registers;
  }

  const sparse = document.sparse;
  if (!isRecord(sparse) || !Array.isArray(sparse.indices) || !Array.isArray(sparse.maxLzCounts)) {
    fail('"sparse" must hold "indices" and "maxLzCounts" arrays');
  }
  const indices: unknown[] = sparse.indices;
  const counts: unknown[] = sparse.maxLzCounts;
  if (indices.length !== counts.length) fail('"indices" and "maxLzCounts" differ in length');
  const seen = new Uint8Array(SNOWFLAKE_REGISTER_COUNT);
  indices.forEach((index, position) => {
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= SNOWFLAKE_REGISTER_COUNT) {
      fail(`index ${String(index)} is not an integer in 0..4095`);
    }
    const at = index as number;
    if (seen[at] === 1) fail(`index ${at} appears twice`);
    seen[at] = 1;
    registers[at] = checkRank(counts[position], at);
  });
  return registers;
}

function checkRank(rank: unknown, index: number): number {
  if (!Number.isInteger(rank) || (rank as number) < 0) fail(`rank of register ${index} is not a non-negative integer`);
  const limit = maxRank(SNOWFLAKE_PRECISION);
  if ((rank as number) > limit) {
    throw new HllFormatError('REGISTER_OVERFLOW', `rank ${String(rank)} of register ${index} is above ${limit}`);
  }
  return rank as number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new HllFormatError('BAD_SNOWFLAKE_EXPORT', message);
}
