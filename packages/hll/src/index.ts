/**
 * `@rta/hll`: Redis-compatible HyperLogLog sketches as plain register arrays.
 *
 * A sketch is a `Uint8Array` of registers, one byte each: 16,384 at p=14 (Redis) or 4,096 at
 * p=12 (Snowflake export). Decode what Redis stores, merge sketches of any window, estimate
 * exactly as PFCOUNT does, write sketches back to Redis, and export them for Snowflake.
 */
export { HllFormatError, type HllFormatErrorCode } from './errors.js';
export {
  REDIS_PRECISION,
  REDIS_REGISTER_COUNT,
  SNOWFLAKE_PRECISION,
  SNOWFLAKE_REGISTER_COUNT,
  createRegisters,
  maxRank,
  type Precision,
} from './precision.js';
export { REDIS_HLL_SEED, hashElement, murmurHash64A, murmurHash64AParts, type Hash64 } from './murmur.js';
export {
  addElements,
  buildRegisters,
  registerUpdateOf,
  registerUpdateOfHash,
  type RegisterUpdate,
} from './sketch.js';
export {
  REDIS_HLL_DENSE_BYTES,
  REDIS_HLL_HEADER_BYTES,
  decodeRedisHll,
  forEachRedisHllRegister,
  encodeRedisHll,
  redisHllEncodeDefaults,
  type DecodedRedisHll,
  type RedisHllEncodeOptions,
  type RedisHllEncoding,
} from './redis-format.js';
export { REDIS_OVERFLOW_CARDINALITY, estimateCardinality, estimateRedisHll, registerHistogram } from './estimate.js';
export { mergeInto, mergeRegisters } from './merge.js';
export { downsampleToPrecision12 } from './downsample.js';
export {
  SNOWFLAKE_HLL_EXPORT_VERSION,
  parseSnowflakeHllExport,
  snowflakeExportDefaults,
  toSnowflakeHllExport,
  type SnowflakeDenseHllExport,
  type SnowflakeExportOptions,
  type SnowflakeHllExport,
  type SnowflakeSparseHllExport,
} from './snowflake-export.js';
