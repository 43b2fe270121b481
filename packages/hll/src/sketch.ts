/**
 * Building sketches in JavaScript from the same hashes Redis uses, so that a sketch built here
 * has the same registers as PFADD of the same elements.
 *
 * Register update (`hllPatLen` in redis/src/hyperloglog.c, generalised to precision `p`):
 * `index = hash & (2^p - 1)` (the LOW p bits); `rank` = 1 + the number of trailing zero bits of
 * `hash >> p`, with a sentinel bit at `64 - p` so that rank ≤ 64 - p + 1. A register keeps the
 * largest rank seen.
 *
 * p=12 assumption (warehouse protocol reference, section 4.2): Snowflake documents that
 * it picks the sub-stream from the UPPER 12 bits of its own, undocumented hash, so no sketch
 * built here can be combined with sketches Snowflake builds from raw values. Our p=12 sketches
 * follow Redis's orientation instead (index from the low 12 bits, zero run counted from bit 12
 * upwards), which is the only choice for which down-sampling a Redis p=14 sketch is exact.
 */
import { hashElement, type Hash64 } from './murmur.js';
import { REDIS_PRECISION, createRegisters, precisionOf, type Precision } from './precision.js';

/** Where one element lands in a sketch. */
export interface RegisterUpdate {
  /** Register index, 0 to 2^p - 1. */
  index: number;
  /** Rank (zero run + 1), 1 to 64 - p + 1. */
  rank: number;
}

/** Trailing zero bits of a non-zero 32-bit value. */
function trailingZeros(value: number): number {
  return 31 - Math.clz32(value & -value);
}

/** The register index and rank a 64-bit hash maps to at precision `p` (Redis's `hllPatLen`). */
export function registerUpdateOfHash(hash: Hash64, precision: Precision = REDIS_PRECISION): RegisterUpdate {
  const index = hash.lo & ((1 << precision) - 1);
  const lowRest = hash.lo >>> precision;
  if (lowRest !== 0) return { index, rank: trailingZeros(lowRest) + 1 };
  const bitsBelowHi = 32 - precision;
  if (hash.hi !== 0) return { index, rank: bitsBelowHi + trailingZeros(hash.hi) + 1 };
  // Every bit above the index is zero: the sentinel at bit 64 - p ends the run.
  return { index, rank: 64 - precision + 1 };
}

/** The register index and rank of an element (a string is hashed as UTF-8, as ioredis sends it). */
export function registerUpdateOf(element: string | Uint8Array, precision: Precision = REDIS_PRECISION): RegisterUpdate {
  return registerUpdateOfHash(hashElement(element), precision);
}

/**
 * Adds elements to `registers` in place (PFADD semantics) and returns whether any register
 * changed. The precision is read from the array length (16,384 → p=14, 4,096 → p=12).
 */
export function addElements(registers: Uint8Array, elements: Iterable<string | Uint8Array>): boolean {
  const precision = precisionOf(registers);
  let changed = false;
  for (const element of elements) {
    const { index, rank } = registerUpdateOf(element, precision);
    if (rank > registers[index]!) {
      registers[index] = rank;
      changed = true;
    }
  }
  return changed;
}

/** A new sketch at precision `p` holding `elements`. */
export function buildRegisters(
  elements: Iterable<string | Uint8Array>,
  precision: Precision = REDIS_PRECISION,
): Uint8Array {
  const registers = createRegisters(precision);
  addElements(registers, elements);
  return registers;
}
