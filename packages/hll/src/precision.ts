/**
 * The two precisions this package works with, and the checks every module shares.
 *
 * A sketch at precision `p` is a `Uint8Array` of `2^p` registers, one byte per register. Its
 * index comes from the low `p` bits of the 64-bit element hash and its rank counts the zero
 * bits above them, so a register holds 0 (never hit) up to `64 - p + 1`. Redis uses p=14
 * (ranks 0–51); the Snowflake export uses p=12 (ranks 0–53).
 */
import { HllFormatError } from './errors.js';

export type Precision = 12 | 14;

/** Redis's `HLL_P`: 16,384 registers. */
export const REDIS_PRECISION = 14;
/** Snowflake's `HLL_EXPORT` precision ("currently fixed to 12"): 4,096 registers. */
export const SNOWFLAKE_PRECISION = 12;

export const REDIS_REGISTER_COUNT = 1 << REDIS_PRECISION;
export const SNOWFLAKE_REGISTER_COUNT = 1 << SNOWFLAKE_PRECISION;

/** The largest rank at precision `p`: the `64 - p` hash bits above the index, plus one. */
export function maxRank(precision: Precision): number {
  return 64 - precision + 1;
}

/** Reads the precision from a register array's length; only 4,096 and 16,384 are accepted. */
export function precisionOf(registers: Uint8Array): Precision {
  if (registers.length === REDIS_REGISTER_COUNT) return REDIS_PRECISION;
  if (registers.length === SNOWFLAKE_REGISTER_COUNT) return SNOWFLAKE_PRECISION;
  throw new HllFormatError(
    'BAD_REGISTER_COUNT',
    `expected ${REDIS_REGISTER_COUNT} (p=14) or ${SNOWFLAKE_REGISTER_COUNT} (p=12) registers, got ${registers.length}`,
  );
}

/** Throws unless `registers` has exactly `2^precision` entries, each at most `maxRank(precision)`. */
export function assertRegisters(registers: Uint8Array, precision: Precision): void {
  const expected = 1 << precision;
  if (registers.length !== expected) {
    throw new HllFormatError(
      'BAD_REGISTER_COUNT',
      `expected ${expected} registers for p=${precision}, got ${registers.length}`,
    );
  }
  const limit = maxRank(precision);
  for (let i = 0; i < registers.length; i++) {
    const value = registers[i]!;
    if (value > limit) {
      throw new HllFormatError(
        'REGISTER_OVERFLOW',
        `register ${i} is ${value}, above the largest rank ${limit} at p=${precision}`,
      );
    }
  }
}

/** A fresh, empty sketch (all registers 0) at the given precision. */
export function createRegisters(precision: Precision = REDIS_PRECISION): Uint8Array {
  return new Uint8Array(1 << precision);
}
