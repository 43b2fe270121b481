/**
 * Redis's serialised HyperLogLog: the string GET returns for a PFADD key (Redis 7 format,
 * redis/src/hyperloglog.c), to and from 16,384 registers of one byte each.
 *
 * Layout (all offsets in bytes):
 * - Header, 16 bytes: `HYLL` magic (0–3), encoding (4: 0 dense, 1 sparse), three reserved zero
 *   bytes (5–7), cached cardinality (8–15, little-endian; the top bit of byte 15 set means
 *   "stale, recompute").
 * - Dense: exactly 12,288 bytes of 6-bit registers packed LSB first (register i starts at bit
 *   6i), 12,304 bytes in all.
 * - Sparse: run-length opcodes covering exactly 16,384 registers: `00xxxxxx` ZERO (1–64 zeros),
 *   `01xxxxxx yyyyyyyy` XZERO (1–16,384 zeros), `1vvvvvxx` VAL (value 1–32, 1–4 times).
 *
 * Decoding is stricter than Redis, never more lenient: anything Redis would reject, and also
 * non-zero reserved bytes, registers above 51 and a cut-off XZERO, is an `HllFormatError`. So
 * every string this module decodes gives the same PFCOUNT in Redis as `estimateCardinality`
 * gives for the decoded registers.
 *
 * Read keys with `getBuffer` (ioredis), never `get`: a UTF-8 decoded string corrupts the bytes.
 */
import { HllFormatError } from './errors.js';
import { REDIS_PRECISION, REDIS_REGISTER_COUNT, assertRegisters, maxRank } from './precision.js';

export type RedisHllEncoding = 'dense' | 'sparse';

export const REDIS_HLL_HEADER_BYTES = 16;
/** Length of every dense string: header plus 16,384 × 6 bits. */
export const REDIS_HLL_DENSE_BYTES = REDIS_HLL_HEADER_BYTES + (REDIS_REGISTER_COUNT * 6) / 8;

const MAGIC = [0x48, 0x59, 0x4c, 0x4c]; // "HYLL"
const ENCODING_DENSE = 0;
const ENCODING_SPARSE = 1;
const CACHE_STALE_BIT = 0x80; // in byte 15, the top byte of the cached cardinality
const MAX_RANK = maxRank(REDIS_PRECISION);

const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_RUN = 4;
const SPARSE_ZERO_MAX_RUN = 64;

/** A decoded Redis HyperLogLog string. */
export interface DecodedRedisHll {
  /** 16,384 registers, each 0–51. */
  registers: Uint8Array;
  /** The encoding the string used. */
  encoding: RedisHllEncoding;
  /**
   * The cardinality the last PFCOUNT cached in the header, or `null` when the header marks it
   * stale, as PFADD, PFMERGE and `encodeRedisHll` leave it. A bigint: the field has 63 bits.
   */
  cachedCardinality: bigint | null;
}

export interface RedisHllEncodeOptions {
  /**
   * `'auto'` writes sparse when every register is at most 32 and the sparse string is no
   * longer than `sparseMaxBytes` (and shorter than dense), dense otherwise. `'dense'` and
   * `'sparse'` force an encoding; forcing sparse for a register above 32 throws
   * `NOT_SPARSE_REPRESENTABLE`. Default `'auto'`.
   */
  encoding?: 'auto' | RedisHllEncoding;
  /**
   * Largest sparse string `'auto'` writes, in bytes including the 16-byte header. Default
   * 3000, Redis's own `hll-sparse-max-bytes` default: above it Redis would promote the key to
   * dense on the next PFADD anyway, and updating a long sparse string costs Redis CPU.
   */
  sparseMaxBytes?: number;
}

export const redisHllEncodeDefaults = {
  encoding: 'auto',
  sparseMaxBytes: 3000,
} as const satisfies Required<RedisHllEncodeOptions>;

/** Decodes a Redis HyperLogLog string into its registers; throws `HllFormatError` if malformed. */
export function decodeRedisHll(bytes: Uint8Array): DecodedRedisHll {
  const registers = new Uint8Array(REDIS_REGISTER_COUNT);
  const encoding = forEachRedisHllRegister(bytes, (index, rank) => {
    registers[index] = rank;
  });
  return { registers, encoding, cachedCardinality: readCachedCardinality(bytes) };
}

/**
 * Calls `visit(index, rank)` for every non-zero register of a Redis HyperLogLog string, in
 * ascending index order, without building the 16,384 registers: a sparse string of a few
 * visitors costs a few steps, not a pass over 16 KB. Checks exactly what `decodeRedisHll`
 * checks, and throws the same `HllFormatError` before or while visiting; returns the encoding.
 */
export function forEachRedisHllRegister(bytes: Uint8Array, visit: (index: number, rank: number) => void): RedisHllEncoding {
  if (bytes.length < REDIS_HLL_HEADER_BYTES) {
    throw new HllFormatError('TRUNCATED', `${bytes.length} bytes is shorter than the 16-byte HLL header`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new HllFormatError('BAD_MAGIC', 'the string does not start with "HYLL"');
  }
  const encodingByte = bytes[4]!;
  if (encodingByte !== ENCODING_DENSE && encodingByte !== ENCODING_SPARSE) {
    throw new HllFormatError('UNKNOWN_ENCODING', `unknown HLL encoding byte ${encodingByte}`);
  }
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new HllFormatError('RESERVED_NOT_ZERO', 'HLL header bytes 5-7 must be zero');
  }
  if (encodingByte === ENCODING_DENSE) {
    visitDense(bytes, visit);
    return 'dense';
  }
  visitSparse(bytes, visit);
  return 'sparse';
}

function readCachedCardinality(bytes: Uint8Array): bigint | null {
  if ((bytes[15]! & CACHE_STALE_BIT) !== 0) return null;
  let value = 0n;
  for (let i = 15; i >= 8; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

function visitDense(bytes: Uint8Array, visit: (index: number, rank: number) => void): void {
  if (bytes.length !== REDIS_HLL_DENSE_BYTES) {
    throw new HllFormatError(
      'BAD_DENSE_LENGTH',
      `a dense HLL is exactly ${REDIS_HLL_DENSE_BYTES} bytes, got ${bytes.length}`,
    );
  }
  // Checked in full before the first visit, so a malformed string visits nothing.
  for (let i = 0; i < REDIS_REGISTER_COUNT; i++) {
    const rank = denseRegister(bytes, i);
    if (rank > MAX_RANK) {
      throw new HllFormatError('REGISTER_OVERFLOW', `dense register ${i} is ${rank}, above the largest rank ${MAX_RANK}`);
    }
  }
  // Four 6-bit registers fill three bytes exactly.
  for (let group = 0, p = REDIS_HLL_HEADER_BYTES; group < REDIS_REGISTER_COUNT; group += 4, p += 3) {
    const b0 = bytes[p]!;
    const b1 = bytes[p + 1]!;
    const b2 = bytes[p + 2]!;
    if ((b0 | b1 | b2) === 0) continue;
    const r0 = b0 & 63;
    const r1 = ((b0 >> 6) | (b1 << 2)) & 63;
    const r2 = ((b1 >> 4) | (b2 << 4)) & 63;
    const r3 = b2 >> 2;
    if (r0 !== 0) visit(group, r0);
    if (r1 !== 0) visit(group + 1, r1);
    if (r2 !== 0) visit(group + 2, r2);
    if (r3 !== 0) visit(group + 3, r3);
  }
}

/** Register `i` of a dense string: 6 bits starting at bit 6i of the registers, LSB first. */
function denseRegister(bytes: Uint8Array, i: number): number {
  const bit = i * 6;
  const p = REDIS_HLL_HEADER_BYTES + (bit >> 3);
  const shift = bit & 7;
  const low = bytes[p]! >> shift;
  return (shift <= 2 ? low : low | (bytes[p + 1]! << (8 - shift))) & 63;
}

function visitSparse(bytes: Uint8Array, visit: (index: number, rank: number) => void): void {
  // Checked in full before the first visit, so a malformed string visits nothing.
  let index = 0;
  for (let p = REDIS_HLL_HEADER_BYTES; p < bytes.length; ) {
    const opcode = bytes[p]!;
    const at = p;
    let run: number;
    if ((opcode & 0xc0) === 0x00) {
      run = (opcode & 0x3f) + 1;
      p += 1;
    } else if ((opcode & 0xc0) === 0x40) {
      if (p + 1 >= bytes.length) {
        throw new HllFormatError('TRUNCATED', `XZERO opcode at byte ${at} is missing its second byte`);
      }
      run = (((opcode & 0x3f) << 8) | bytes[p + 1]!) + 1;
      p += 2;
    } else {
      run = (opcode & 0x03) + 1;
      p += 1;
    }
    if (index + run > REDIS_REGISTER_COUNT) {
      throw new HllFormatError(
        'SPARSE_OVERRUN',
        `sparse opcode at byte ${at} runs to register ${index + run}, past ${REDIS_REGISTER_COUNT}`,
      );
    }
    index += run;
  }
  if (index !== REDIS_REGISTER_COUNT) {
    throw new HllFormatError(
      'SPARSE_UNDERRUN',
      `sparse opcodes cover ${index} of ${REDIS_REGISTER_COUNT} registers`,
    );
  }
  index = 0;
  for (let p = REDIS_HLL_HEADER_BYTES; p < bytes.length; ) {
    const opcode = bytes[p]!;
    if ((opcode & 0xc0) === 0x00) {
      index += (opcode & 0x3f) + 1;
      p += 1;
    } else if ((opcode & 0xc0) === 0x40) {
      index += (((opcode & 0x3f) << 8) | bytes[p + 1]!) + 1;
      p += 2;
    } else {
      const value = ((opcode >> 2) & 0x1f) + 1;
      for (let end = index + (opcode & 0x03) + 1; index < end; index++) visit(index, value);
      p += 1;
    }
  }
}

/**
 * Encodes 16,384 registers (each 0–51) as a string Redis accepts for SET followed by PFADD,
 * PFCOUNT or PFMERGE. The cached cardinality is marked stale, so Redis recomputes it. Returns
 * a Buffer because ioredis sends a Buffer as raw bytes (a bare Uint8Array it would stringify).
 */
export function encodeRedisHll(registers: Uint8Array, options: RedisHllEncodeOptions = {}): Buffer {
  const encoding = options.encoding ?? redisHllEncodeDefaults.encoding;
  const sparseMaxBytes = options.sparseMaxBytes ?? redisHllEncodeDefaults.sparseMaxBytes;
  assertRegisters(registers, REDIS_PRECISION);
  if (encoding === 'dense') return encodeDense(registers);

  const sparse = encodeSparse(registers);
  if (encoding === 'sparse') {
    if (sparse === null) {
      throw new HllFormatError('NOT_SPARSE_REPRESENTABLE', `a register above ${SPARSE_VAL_MAX_VALUE} needs the dense encoding`);
    }
    return sparse;
  }
  const fitsSparse =
    sparse !== null && sparse.length <= sparseMaxBytes && sparse.length < REDIS_HLL_DENSE_BYTES;
  return fitsSparse ? sparse : encodeDense(registers);
}

function writeHeader(out: Buffer, encodingByte: number): void {
  out.set(MAGIC, 0);
  out[4] = encodingByte;
  out[15] = CACHE_STALE_BIT;
}

function encodeDense(registers: Uint8Array): Buffer {
  const out = Buffer.alloc(REDIS_HLL_DENSE_BYTES);
  writeHeader(out, ENCODING_DENSE);
  for (let group = 0, p = REDIS_HLL_HEADER_BYTES; group < REDIS_REGISTER_COUNT; group += 4, p += 3) {
    const r0 = registers[group]!;
    const r1 = registers[group + 1]!;
    const r2 = registers[group + 2]!;
    const r3 = registers[group + 3]!;
    out[p] = (r0 | (r1 << 6)) & 0xff;
    out[p + 1] = ((r1 >> 2) | (r2 << 4)) & 0xff;
    out[p + 2] = ((r2 >> 4) | (r3 << 2)) & 0xff;
  }
  return out;
}

/**
 * The shortest sparse string for `registers` (maximal runs, ZERO for up to 64 zeros, XZERO
 * above, VAL in runs of up to 4), or `null` when a register is above 32.
 */
function encodeSparse(registers: Uint8Array): Buffer | null {
  // Every opcode covers at least one register, so 16,384 opcode bytes is the worst case.
  const body = new Uint8Array(REDIS_REGISTER_COUNT);
  let length = 0;
  let i = 0;
  while (i < REDIS_REGISTER_COUNT) {
    const value = registers[i]!;
    if (value > SPARSE_VAL_MAX_VALUE) return null;
    let end = i + 1;
    while (end < REDIS_REGISTER_COUNT && registers[end] === value) end++;
    let run = end - i;
    if (value === 0) {
      if (run <= SPARSE_ZERO_MAX_RUN) {
        body[length++] = run - 1;
      } else {
        body[length++] = 0x40 | ((run - 1) >> 8);
        body[length++] = (run - 1) & 0xff;
      }
    } else {
      while (run > 0) {
        const chunk = Math.min(run, SPARSE_VAL_MAX_RUN);
        body[length++] = 0x80 | ((value - 1) << 2) | (chunk - 1);
        run -= chunk;
      }
    }
    i = end;
  }
  const out = Buffer.alloc(REDIS_HLL_HEADER_BYTES + length);
  writeHeader(out, ENCODING_SPARSE);
  out.set(body.subarray(0, length), REDIS_HLL_HEADER_BYTES);
  return out;
}
