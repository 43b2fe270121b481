/**
 * The 32-bit-halves MurmurHash64A against a direct BigInt transcription of Redis's C code, for
 * random inputs of every tail length, and the register mapping against known PFADD output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  REDIS_HLL_SEED,
  buildRegisters,
  encodeRedisHll,
  hashElement,
  murmurHash64A,
  registerUpdateOfHash,
} from '../src/index.js';

const MASK = (1n << 64n) - 1n;
const M = 0xc6a4a7935bd1e995n;

/** `MurmurHash64A` from redis/src/hyperloglog.c, line by line, in BigInt. */
function referenceMurmurHash64A(data: Uint8Array, seed: number): bigint {
  let h = (BigInt(seed) ^ (BigInt(data.length) * M)) & MASK;
  const blockEnd = data.length - (data.length & 7);
  for (let i = 0; i < blockEnd; i += 8) {
    let k = 0n;
    for (let b = 7; b >= 0; b--) k = (k << 8n) | BigInt(data[i + b]!);
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  const tail = data.length & 7;
  if (tail > 0) {
    for (let b = tail - 1; b >= 0; b--) h ^= BigInt(data[blockEnd + b]!) << BigInt(8 * b);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

describe('murmurHash64A', () => {
  it('equals the BigInt transcription for random bytes and seeds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 0xffffffff }), (data, seed) => {
        expect(murmurHash64A(data, seed)).toBe(referenceMurmurHash64A(data, seed));
      }),
      { numRuns: 3000 },
    );
  });

  it('uses seed 0xadc83b19 and hashes strings as UTF-8', () => {
    const text = 'héllo wörld 🙂';
    const { hi, lo } = hashElement(text);
    const expected = referenceMurmurHash64A(new TextEncoder().encode(text), REDIS_HLL_SEED);
    expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(expected);
  });
});

describe('register mapping (hllPatLen)', () => {
  it('takes the index from the low 14 bits and counts zeros from bit 14, capped at 51', () => {
    expect(registerUpdateOfHash({ hi: 0, lo: 0x3fff | (1 << 14) })).toEqual({ index: 0x3fff, rank: 1 });
    expect(registerUpdateOfHash({ hi: 0, lo: 5 | (1 << 31) })).toEqual({ index: 5, rank: 18 });
    expect(registerUpdateOfHash({ hi: 1, lo: 0 })).toEqual({ index: 0, rank: 19 });
    expect(registerUpdateOfHash({ hi: 0x80000000, lo: 7 })).toEqual({ index: 7, rank: 50 });
    expect(registerUpdateOfHash({ hi: 0, lo: 9 })).toEqual({ index: 9, rank: 51 });
  });

  it('at p=12 takes the low 12 bits and counts zeros from bit 12, capped at 53', () => {
    expect(registerUpdateOfHash({ hi: 0, lo: 0xfff | (1 << 12) }, 12)).toEqual({ index: 0xfff, rank: 1 });
    expect(registerUpdateOfHash({ hi: 0x80000000, lo: 0 }, 12)).toEqual({ index: 0, rank: 52 });
    expect(registerUpdateOfHash({ hi: 0, lo: 0xfff }, 12)).toEqual({ index: 0xfff, rank: 53 });
  });

  it('reproduces Redis 7.0.15 for PFADD s a b c d e (PFDEBUG DECODE)', () => {
    // Z:7292 v:1,1 Z:1143 v:1,1 Z:4274 v:2,1 Z:2445 v:1,1 Z:622 v:1,1 Z:603
    const opcodes = [0x40, 7291, 0x80, 0x40, 1142, 0x80, 0x40, 4273, 0x84, 0x40, 2444, 0x80, 0x40, 621, 0x80, 0x40, 602];
    const body: number[] = [];
    for (let i = 0; i < opcodes.length; i++) {
      if (opcodes[i] === 0x40) {
        const run = opcodes[++i]!;
        body.push(0x40 | (run >> 8), run & 0xff);
      } else {
        body.push(opcodes[i]!);
      }
    }
    const encoded = encodeRedisHll(buildRegisters(['a', 'b', 'c', 'd', 'e']));
    expect([...encoded.subarray(16)]).toEqual(body);
  });
});
