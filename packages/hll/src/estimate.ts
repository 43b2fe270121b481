/**
 * Cardinality estimation, exactly as Redis 7 computes PFCOUNT (`hllCount` in
 * redis/src/hyperloglog.c): Otmar Ertl's improved estimator ("New cardinality estimation
 * algorithms for HyperLogLog sketches", arXiv:1702.01284) over the register histogram, with the
 * same floating-point operations in the same order, then `llroundl`.
 *
 * For p=14 registers the result equals PFCOUNT of the same registers, integer for integer,
 * including Redis's one quirk: an estimate of 2^63 or more (reachable only with registers no
 * real data produces, such as all of them at 50) overflows `llroundl`, and PFCOUNT replies
 * -9223372036854775808 ({@link REDIS_OVERFLOW_CARDINALITY}).
 *
 * The same formula with `q = 64 - p` serves p=12 sketches; Snowflake's own estimator is not
 * documented, so for p=12 this is our estimate, not necessarily Snowflake's `HLL_ESTIMATE`.
 */
import { REDIS_PRECISION, REDIS_REGISTER_COUNT, assertRegisters, precisionOf } from './precision.js';
import { forEachRedisHllRegister } from './redis-format.js';

/** `HLL_ALPHA_INF`, 0.5 / ln(2). */
const ALPHA_INF = 0.72134752044448170368;

/** What PFCOUNT replies when the estimate overflows a signed 64-bit integer: -2^63. */
export const REDIS_OVERFLOW_CARDINALITY = -9223372036854775808;

const TWO_POW_63 = 9223372036854775808;

/** `hllSigma`: σ(x) = x + Σ_{k≥1} x^(2^k) · 2^(k-1). */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrime: number;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** `hllTau`: τ(x) = (1 - x - Σ_{k≥1} (1 - x^(2^-k))² · 2^-k) / 3. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrime: number;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    // Redis writes pow(1 - x, 2); compilers fold that to a product, and it is exact either way.
    const oneMinusX = 1 - x;
    z -= oneMinusX * oneMinusX * y;
  } while (zPrime !== z);
  return z / 3;
}

/**
 * The register histogram: `histogram[v]` is how many registers hold `v`, for v = 0 to
 * `64 - p + 1`. Throws `HllFormatError` for a wrong length or an out-of-range register.
 */
export function registerHistogram(registers: Uint8Array): Uint32Array {
  const precision = precisionOf(registers);
  assertRegisters(registers, precision);
  const histogram = new Uint32Array(64 - precision + 2);
  for (let i = 0; i < registers.length; i++) histogram[registers[i]!]!++;
  return histogram;
}

/**
 * The estimated number of distinct elements in a sketch of 16,384 (p=14) or 4,096 (p=12)
 * registers, as an integer. For p=14 this is PFCOUNT's reply for the same registers.
 */
export function estimateCardinality(registers: Uint8Array): number {
  return estimateFromHistogram(registerHistogram(registers), registers.length);
}

/**
 * PFCOUNT of a Redis HyperLogLog string (as `GET` returns it), computed here from its non-zero
 * registers only: the same integer Redis replies, without the round trip and without building
 * the 16,384 registers. Throws `HllFormatError` as `decodeRedisHll` does.
 */
export function estimateRedisHll(bytes: Uint8Array): number {
  const histogram = new Uint32Array(64 - REDIS_PRECISION + 2);
  let nonZero = 0;
  forEachRedisHllRegister(bytes, (_index, rank) => {
    histogram[rank]!++;
    nonZero++;
  });
  histogram[0] = REDIS_REGISTER_COUNT - nonZero;
  return estimateFromHistogram(histogram, REDIS_REGISTER_COUNT);
}

/** Ertl's estimate from a register histogram (see registerHistogram) of `m` registers. */
function estimateFromHistogram(histogram: Uint32Array, m: number): number {
  const q = histogram.length - 2;

  let z = m * tau((m - histogram[q + 1]!) / m);
  for (let j = q; j >= 1; --j) {
    z += histogram[j]!;
    z *= 0.5;
  }
  z += m * sigma(histogram[0]! / m);
  const estimate = (ALPHA_INF * m * m) / z;

  // llroundl rounds half away from zero; the estimate is never negative, so Math.round agrees.
  // At 2^53 and above every double is already an integer, as is the long long Redis gets back.
  if (estimate >= TWO_POW_63) return REDIS_OVERFLOW_CARDINALITY;
  return Math.round(estimate);
}
