/**
 * The estimator without Redis: values PFCOUNT gave on Redis 7.0.15 for crafted registers (the
 * full comparison runs in redis-crafted-registers.test.ts), and the accuracy of the same
 * estimator on p=12 sketches, for which there is no Redis to compare with.
 */
import { describe, expect, it } from 'vitest';
import {
  REDIS_OVERFLOW_CARDINALITY,
  buildRegisters,
  estimateCardinality,
  mergeRegisters,
  registerHistogram,
} from '../src/index.js';

function filled(length: number, value: (index: number) => number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => value(index));
}

describe('estimateCardinality at p=14', () => {
  it('matches PFCOUNT values recorded from Redis 7.0.15', () => {
    expect(estimateCardinality(new Uint8Array(16384))).toBe(0);
    expect(estimateCardinality(filled(16384, (i) => (i === 0 ? 0 : 51)))).toBe(193623433);
    expect(estimateCardinality(filled(16384, (i) => (i < 2 ? 0 : 50)))).toBe(96805808);
  });

  it('reports an estimate of 2^63 or more as PFCOUNT does: -2^63', () => {
    expect(REDIS_OVERFLOW_CARDINALITY).toBe(-(2 ** 63));
    expect(estimateCardinality(new Uint8Array(16384).fill(51))).toBe(REDIS_OVERFLOW_CARDINALITY);
    expect(estimateCardinality(new Uint8Array(16384).fill(50))).toBe(REDIS_OVERFLOW_CARDINALITY);
  });

  it('counts registers per value', () => {
    const histogram = registerHistogram(filled(16384, (i) => i % 4));
    expect(histogram.length).toBe(52);
    expect([...histogram.subarray(0, 5)]).toEqual([4096, 4096, 4096, 4096, 0]);
  });
});

describe('estimateCardinality at p=12', () => {
  // Standard error 1.04/√4096 ≈ 1.6%; allow 4 standard errors.
  const tolerance = 4 * (1.04 / Math.sqrt(4096));

  it.each([0, 1, 10, 1000, 50_000, 500_000])('is within 6.5%% for %i elements', (count) => {
    const elements = Array.from({ length: count }, (_, n) => `p12-${n}`);
    const estimate = estimateCardinality(buildRegisters(elements, 12));
    if (count <= 10) expect(estimate).toBe(count);
    else expect(Math.abs(estimate - count) / count).toBeLessThan(tolerance);
  });

  it('merges p=12 sketches like p=14 ones', () => {
    const a = buildRegisters(['x', 'y'], 12);
    const b = buildRegisters(['y', 'z'], 12);
    expect(estimateCardinality(mergeRegisters([a, b]))).toBe(3);
  });

  it('rejects ranks above 53', () => {
    expect(() => estimateCardinality(new Uint8Array(4096).fill(54))).toThrow(/above the largest rank 53/);
  });
});
