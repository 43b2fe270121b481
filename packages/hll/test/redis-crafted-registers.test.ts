/**
 * Registers crafted directly (no elements), encoded by this codec and loaded with SET: 100
 * register arrays covering the corners of the estimator (empty, full, ranks of 51 that take
 * the τ term, estimates past 2^53 and past 2^63) and realistic fill levels. Each is written in
 * every encoding that can hold it, and for each:
 * - PFCOUNT, single-key and multi-key, equals estimateCardinality exactly;
 * - Redis reads back the same registers (PFDEBUG GETREG) and accepts a further PFADD.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REDIS_OVERFLOW_CARDINALITY,
  addElements,
  decodeRedisHll,
  encodeRedisHll,
  estimateCardinality,
  type RedisHllEncoding,
} from '../src/index.js';
import { SeededRandom, syntheticRegisters } from './support/random.js';
import { connectRedis, getRaw, pfcount, redisRegisters, useTestKeys } from './support/redis-oracle.js';
import { expectSameRegisters } from './support/registers.js';

const SEED = 0xc4af7;
const random = new SeededRandom(SEED);

function filled(value: (index: number) => number): Uint8Array {
  return Uint8Array.from({ length: 16384 }, (_, index) => value(index));
}

const edgeCases: [string, Uint8Array][] = [
  ['all zero', filled(() => 0)],
  ['all 1', filled(() => 1)],
  ['all 32 (largest sparse value)', filled(() => 32)],
  ['all 33', filled(() => 33)],
  ['all 45 (estimate above 2^53)', filled(() => 45)],
  ['all 50 (estimate overflows 2^63)', filled(() => 50)],
  ['all 51', filled(() => 51)],
  ['first register 1', filled((i) => (i === 0 ? 1 : 0))],
  ['last register 51', filled((i) => (i === 16383 ? 51 : 0))],
  ['one zero, rest 51', filled((i) => (i === 0 ? 0 : 51))],
  ['half 51, half 0', filled((i) => (i % 2 === 0 ? 51 : 0))],
  ['cycling 0..51', filled((i) => i % 52)],
  ['zero runs of 64 and 65', filled((i) => (i % 130 === 64 || i % 130 === 129 ? 3 : 0))],
  ['runs of 5 equal values', filled((i) => (Math.floor(i / 5) % 2 === 0 ? 7 : 0))],
];
const tauCases: [string, Uint8Array][] = Array.from({ length: 10 }, (_, n) => [
  `${n + 1}0% of registers at 51`,
  filled(() => (random.next() < (n + 1) / 10 ? 51 : random.int(0, 50))),
]);
const uniformCases: [string, Uint8Array][] = Array.from({ length: 10 }, (_, n) => [
  `uniform 0..51 #${n}`,
  filled(() => random.int(0, 51)),
]);
const syntheticCases: [string, Uint8Array][] = Array.from(
  { length: 100 - edgeCases.length - tauCases.length - uniformCases.length },
  (_, n) => {
    // Loads from 1e-5 to 1e7 elements per register, log-uniform.
    const load = 10 ** (random.next() * 12 - 5);
    const sparseOnly = n % 3 === 0;
    return [`synthetic load ${load.toPrecision(3)}${sparseOnly ? ', ranks ≤ 32' : ''}`, syntheticRegisters(random, load, sparseOnly ? 32 : 51)];
  },
);
const cases = [...edgeCases, ...tauCases, ...uniformCases, ...syntheticCases];

describe(`crafted registers loaded with SET (seed ${SEED})`, () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });

  let overflowSeen = false;

  it.each(cases)('%s', async (_name, registers) => {
    const keys = useTestKeys(redis);
    const estimate = estimateCardinality(registers);
    if (estimate === REDIS_OVERFLOW_CARDINALITY) overflowSeen = true;
    const canBeSparse = registers.every((value) => value <= 32);
    const encodings: RedisHllEncoding[] = canBeSparse ? ['dense', 'sparse'] : ['dense'];

    for (const encoding of encodings) {
      const key = keys.key(encoding);
      await redis.set(key, encodeRedisHll(registers, { encoding }));
      expect(await pfcount(redis, key), `PFCOUNT of ${encoding}`).toBe(BigInt(estimate));
      expect(await pfcount(redis, key, keys.key('missing')), `multi-key PFCOUNT of ${encoding}`).toBe(BigInt(estimate));
      expectSameRegisters(await redisRegisters(redis, key), registers, `GETREG of ${encoding}`);

      const added = Uint8Array.from(registers);
      addElements(added, ['crafted-a', 'crafted-b', 'crafted-c']);
      await redis.pfadd(key, 'crafted-a', 'crafted-b', 'crafted-c');
      expectSameRegisters(decodeRedisHll(await getRaw(redis, key)).registers, added, `PFADD onto ${encoding}`);
    }
  });

  it('reached the 2^63 overflow that PFCOUNT reports as -2^63', () => {
    expect(overflowSeen).toBe(true);
  });
});
