/**
 * Down-sampling p=14 → p=12 against sketches built directly at p=12 from the same hashes
 * (index from the low 12 bits, zero run from bit 12; see src/sketch.ts for why), including
 * hashes with long zero runs that reach the top ranks 51 → 53. Since the p=14 sketches built
 * in JavaScript equal Redis's (redis-pfadd.test.ts), this also holds for sketches read from
 * Redis.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildRegisters,
  downsampleToPrecision12,
  mergeRegisters,
  registerUpdateOfHash,
  type Hash64,
  type Precision,
} from '../src/index.js';
import { expectSameRegisters } from './support/registers.js';

function buildFromHashes(hashes: readonly Hash64[], precision: Precision): Uint8Array {
  const registers = new Uint8Array(1 << precision);
  for (const hash of hashes) {
    const { index, rank } = registerUpdateOfHash(hash, precision);
    if (rank > registers[index]!) registers[index] = rank;
  }
  return registers;
}

/** 64-bit hashes, many with long runs of zero bits above the index. */
const hashArbitrary: fc.Arbitrary<Hash64> = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 52 }))
  .map(([hi, lo, zeroBits]) => {
    // Clear `zeroBits` bits starting at bit 12, keeping the 12-bit index.
    let clearHi = hi;
    let clearLo = lo;
    for (let bit = 12; bit < 12 + zeroBits; bit++) {
      if (bit < 32) clearLo &= ~(1 << bit);
      else clearHi &= ~(1 << (bit - 32));
    }
    return { hi: clearHi >>> 0, lo: clearLo >>> 0 };
  });

describe('downsampleToPrecision12', () => {
  it('equals a p=12 sketch built directly from the same hashes', () => {
    fc.assert(
      fc.property(fc.array(hashArbitrary, { maxLength: 3000 }), (hashes) => {
        expectSameRegisters(downsampleToPrecision12(buildFromHashes(hashes, 14)), buildFromHashes(hashes, 12));
      }),
      { numRuns: 200 },
    );
  });

  it('equals a p=12 sketch built directly from the same elements', () => {
    for (const count of [0, 1, 100, 20_000, 300_000]) {
      const elements = Array.from({ length: count }, (_, n) => `d${n}`);
      expectSameRegisters(downsampleToPrecision12(buildRegisters(elements)), buildRegisters(elements, 12), `${count} elements`);
    }
  });

  it('reaches rank 53 from a p=14 rank of 51', () => {
    const registers = new Uint8Array(16384);
    registers[7] = 51;
    registers[7 + 4096] = 3;
    expect(downsampleToPrecision12(registers)[7]).toBe(53);
  });

  it('commutes with merging', () => {
    fc.assert(
      fc.property(fc.array(hashArbitrary, { maxLength: 500 }), fc.array(hashArbitrary, { maxLength: 500 }), (a, b) => {
        const a14 = buildFromHashes(a, 14);
        const b14 = buildFromHashes(b, 14);
        expectSameRegisters(
          downsampleToPrecision12(mergeRegisters([a14, b14])),
          mergeRegisters([downsampleToPrecision12(a14), downsampleToPrecision12(b14)]),
        );
      }),
      { numRuns: 100 },
    );
  });
});
