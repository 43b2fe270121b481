/**
 * The Redis string codec without Redis: round trips, the choice of encoding, the header fields
 * and the layout of both encodings. What Redis itself makes of these strings is tested in the
 * redis-*.test.ts suites.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  REDIS_HLL_DENSE_BYTES,
  buildRegisters,
  decodeRedisHll,
  encodeRedisHll,
  redisHllEncodeDefaults,
} from '../src/index.js';
import { expectSameRegisters } from './support/registers.js';

const registersArbitrary = (maxValue: number): fc.Arbitrary<Uint8Array> =>
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: 16383 }), fc.integer({ min: 1, max: maxValue }), fc.integer({ min: 1, max: 300 })), {
      maxLength: 60,
    })
    .map((runs) => {
      const registers = new Uint8Array(16384);
      for (const [start, value, length] of runs) registers.fill(value, start, start + length);
      return registers;
    });

describe('encodeRedisHll / decodeRedisHll', () => {
  it('round-trips registers through every encoding that can hold them', () => {
    fc.assert(
      fc.property(registersArbitrary(51), (registers) => {
        for (const encoding of ['auto', 'dense', 'sparse'] as const) {
          if (encoding === 'sparse' && registers.some((value) => value > 32)) continue;
          const decoded = decodeRedisHll(encodeRedisHll(registers, { encoding }));
          expectSameRegisters(decoded.registers, registers, encoding);
          expect(decoded.cachedCardinality, 'the cache is marked stale').toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('writes the empty sketch as Redis creates it: one XZERO:16384', () => {
    const encoded = encodeRedisHll(new Uint8Array(16384));
    expect([...encoded]).toEqual([0x48, 0x59, 0x4c, 0x4c, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x7f, 0xff]);
  });

  it('packs dense registers LSB first, 6 bits each', () => {
    const registers = new Uint8Array(16384);
    registers.set([1, 2, 3, 4]);
    registers[16383] = 51;
    const encoded = encodeRedisHll(registers, { encoding: 'dense' });
    expect(encoded.length).toBe(REDIS_HLL_DENSE_BYTES);
    // 000001 | 000010 | 000011 | 000100 → 10 000001, 0011 0000, 000100 00
    expect([...encoded.subarray(16, 19)]).toEqual([0b10000001, 0b00110000, 0b00010000]);
    expect(encoded[encoded.length - 1]).toBe(51 << 2);
  });

  it('writes the shortest sparse form: ZERO up to 64, XZERO above, VAL runs of up to 4', () => {
    const registers = new Uint8Array(16384);
    registers.fill(5, 64, 73); // 9 × value 5 after 64 zeros
    registers[73 + 65] = 32; // then 65 zeros and one 32
    const body = [...encodeRedisHll(registers).subarray(16)];
    const rest = 16384 - (73 + 65 + 1);
    expect(body).toEqual([
      63, // ZERO:64
      0x80 | (4 << 2) | 3, 0x80 | (4 << 2) | 3, 0x80 | (4 << 2) | 0, // VAL:5,4 VAL:5,4 VAL:5,1
      0x40, 64, // XZERO:65
      0x80 | (31 << 2), // VAL:32,1
      0x40 | ((rest - 1) >> 8), (rest - 1) & 0xff,
    ]);
  });

  it('chooses sparse only while it is at most sparseMaxBytes (default 3000, as Redis)', () => {
    expect(redisHllEncodeDefaults.sparseMaxBytes).toBe(3000);
    const small = buildRegisters(Array.from({ length: 500 }, (_, n) => `s${n}`));
    expect(encodeRedisHll(small)[4]).toBe(1);
    expect(encodeRedisHll(small, { sparseMaxBytes: 100 })[4]).toBe(0);
    const medium = buildRegisters(Array.from({ length: 4000 }, (_, n) => `m${n}`));
    expect(encodeRedisHll(medium)[4]).toBe(0);
    expect(encodeRedisHll(medium, { sparseMaxBytes: 12_000 })[4]).toBe(1);
    expect(encodeRedisHll(new Uint8Array(16384).fill(33))[4], 'values above 32 need dense').toBe(0);
  });

  it('reads the cached cardinality when its stale bit is clear', () => {
    const encoded = encodeRedisHll(new Uint8Array(16384));
    encoded.set([0x63, 0x4f, 0, 0, 0, 0, 0, 0], 8); // 20323, little-endian, as PFCOUNT writes it
    expect(decodeRedisHll(encoded).cachedCardinality).toBe(20323n);
  });
});
