/**
 * The one error class of `@rta/hll`. Every rejection of a malformed sketch (a Redis string, a
 * register array, a Snowflake export) is an `HllFormatError` with a stable `code`; the codec
 * never returns a number computed from input it could not fully validate.
 */

/** Stable codes a caller can branch on. The message carries the detail (offsets, values). */
export type HllFormatErrorCode =
  /** Shorter than the 16-byte header, or a 2-byte XZERO opcode cut off by the end of the string. */
  | 'TRUNCATED'
  /** The first four bytes are not `HYLL`. */
  | 'BAD_MAGIC'
  /** Header byte 4 is neither 0 (dense) nor 1 (sparse). */
  | 'UNKNOWN_ENCODING'
  /** Header bytes 5–7 (`notused`) are not all zero. Redis always writes zeros there. */
  | 'RESERVED_NOT_ZERO'
  /** A dense string whose length is not exactly 12,304 bytes. */
  | 'BAD_DENSE_LENGTH'
  /** Sparse opcodes that describe more than the 16,384 registers. */
  | 'SPARSE_OVERRUN'
  /** Sparse opcodes that end before all 16,384 registers are described. */
  | 'SPARSE_UNDERRUN'
  /** A register above the largest rank the hash can produce (51 at p=14, 53 at p=12). */
  | 'REGISTER_OVERFLOW'
  /** A register array of the wrong length for the operation. */
  | 'BAD_REGISTER_COUNT'
  /** Sparse encoding was requested for registers that sparse cannot hold (a value above 32). */
  | 'NOT_SPARSE_REPRESENTABLE'
  /** A Snowflake `HLL_EXPORT` document that does not have the documented shape. */
  | 'BAD_SNOWFLAKE_EXPORT';

export class HllFormatError extends Error {
  override readonly name = 'HllFormatError';
  constructor(
    readonly code: HllFormatErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
