/**
 * Exact down-sampling of a Redis p=14 sketch to p=12, the precision of Snowflake's
 * `HLL_EXPORT` (warehouse protocol reference, section 4.2).
 *
 * The index is the low bits of the hash, so the four p=14 registers `j + 4096·k` (k = 0..3,
 * hash bits 12–13) fold into p=12 register `j`. At p=12 the zero run starts at bit 12, so each
 * non-zero source register `r` contributes a candidate rank:
 * - k = 0 (bits 12 and 13 zero): `r + 2`;
 * - k = 1 or 3 (bit 12 set): 1;
 * - k = 2 (bit 12 zero, bit 13 set): 2.
 * The p=12 register is the largest candidate, 0 if all four are 0, and at most 51 + 2 = 53.
 * The result equals the sketch built directly at p=12 from the same hashes
 * (`buildRegisters(elements, 12)`), and down-sampling commutes with merging.
 */
import { REDIS_PRECISION, SNOWFLAKE_REGISTER_COUNT, assertRegisters } from './precision.js';

/** The p=12 sketch (4,096 registers, each 0–53) holding the same elements as a p=14 sketch. */
export function downsampleToPrecision12(registers: Uint8Array): Uint8Array {
  assertRegisters(registers, REDIS_PRECISION);
  const out = new Uint8Array(SNOWFLAKE_REGISTER_COUNT);
  for (let j = 0; j < SNOWFLAKE_REGISTER_COUNT; j++) {
    const k0 = registers[j]!;
    const k1 = registers[j + SNOWFLAKE_REGISTER_COUNT]!;
    const k2 = registers[j + 2 * SNOWFLAKE_REGISTER_COUNT]!;
    const k3 = registers[j + 3 * SNOWFLAKE_REGISTER_COUNT]!;
    let rank = 0;
    if (k1 !== 0 || k3 !== 0) rank = 1;
    if (k2 !== 0) rank = 2;
    if (k0 !== 0) rank = Math.max(rank, k0 + 2);
    out[j] = rank;
  }
  return out;
}
