/**
 * Redis's element hash: MurmurHash64A (MurmurHash2, 64-bit) in Redis's endian-neutral form,
 * `m = 0xc6a4a7935bd1e995`, `r = 47`, `h = seed ^ (len * m)`, 8-byte blocks read little-endian
 * (`MurmurHash64A` in redis/src/hyperloglog.c). PFADD hashes the raw bytes of each element with
 * seed `0xadc83b19`.
 *
 * The arithmetic runs on two unsigned 32-bit halves so that hashing needs no BigInt; the
 * `bigint` form is offered for callers and tests that want the whole value.
 */

/** The seed `hllPatLen` passes to MurmurHash64A. */
export const REDIS_HLL_SEED = 0xadc83b19;

/** A 64-bit hash as two unsigned 32-bit halves. */
export interface Hash64 {
  /** Bits 32–63. */
  hi: number;
  /** Bits 0–31. */
  lo: number;
}

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;

const utf8 = new TextEncoder();
// Reused for short strings so that hashing an element allocates no byte array.
const scratch = new Uint8Array(1024);

// Result registers of mul64, kept at module level so the hot loop allocates nothing.
let productHi = 0;
let productLo = 0;

/** The low 64 bits of (aHi:aLo) * (bHi:bLo), left in productHi/productLo. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a48 = aHi >>> 16;
  const a32 = aHi & 0xffff;
  const a16 = aLo >>> 16;
  const a00 = aLo & 0xffff;
  const b48 = bHi >>> 16;
  const b32 = bHi & 0xffff;
  const b16 = bLo >>> 16;
  const b00 = bLo & 0xffff;

  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  // Only the low 16 bits of this sum survive; it stays below 2^35, so it is exact.
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;

  productHi = ((c48 << 16) | c32) >>> 0;
  productLo = ((c16 << 16) | c00) >>> 0;
}

/** MurmurHash64A of `data` with a 32-bit `seed`, as two 32-bit halves. */
export function murmurHash64AParts(data: Uint8Array, seed: number = REDIS_HLL_SEED): Hash64 {
  const len = data.length;
  mul64(0, len >>> 0, M_HI, M_LO);
  let hHi = productHi;
  let hLo = (productLo ^ seed) >>> 0;

  const blockEnd = len - (len & 7);
  for (let i = 0; i < blockEnd; i += 8) {
    const kLo = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    const kHi = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0;
    mul64(kHi, kLo, M_HI, M_LO);
    // k ^= k >> 47: only bits 47..63 move, into bits 0..16.
    mul64(productHi, (productLo ^ (productHi >>> 15)) >>> 0, M_HI, M_LO);
    hHi = (hHi ^ productHi) >>> 0;
    hLo = (hLo ^ productLo) >>> 0;
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = productHi;
    hLo = productLo;
  }

  const tail = len & 7;
  if (tail > 0) {
    for (let j = tail - 1; j >= 0; j--) {
      const byte = data[blockEnd + j]!;
      if (j >= 4) hHi = (hHi ^ (byte << ((j - 4) * 8))) >>> 0;
      else hLo = (hLo ^ (byte << (j * 8))) >>> 0;
    }
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = productHi;
    hLo = productLo;
  }

  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  mul64(hHi, hLo, M_HI, M_LO);
  hHi = productHi;
  hLo = (productLo ^ (productHi >>> 15)) >>> 0;
  return { hi: hHi, lo: hLo };
}

/** MurmurHash64A of `data` with a 32-bit `seed` (default Redis's `0xadc83b19`), as an unsigned 64-bit bigint. */
export function murmurHash64A(data: Uint8Array, seed: number = REDIS_HLL_SEED): bigint {
  const { hi, lo } = murmurHash64AParts(data, seed);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * The hash PFADD computes for an element: MurmurHash64A with seed `0xadc83b19` over its bytes.
 * A string is hashed as UTF-8, which is how ioredis and redis-cli send it; a byte array (such
 * as a Buffer given to ioredis) as it is.
 */
export function hashElement(element: string | Uint8Array): Hash64 {
  if (typeof element !== 'string') return murmurHash64AParts(element);
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (element.length * 3 > scratch.length) return murmurHash64AParts(utf8.encode(element));
  const { written } = utf8.encodeInto(element, scratch);
  return murmurHash64AParts(scratch.subarray(0, written));
}
