/**
 * Sketches PFADD builds in Redis 7, read back with this codec: 200 sets of 0 to 2,000,000
 * distinct elements, sparse and dense. For each set:
 * - the registers decoded from GET equal Redis's own (PFDEBUG GETREG) and the registers built
 *   in JavaScript from the same elements (same hash, same update rule);
 * - estimateCardinality equals PFCOUNT exactly, and so does estimateRedisHll of the string;
 * - forEachRedisHllRegister visits exactly the non-zero decoded registers, in index order;
 * - the codec's encoding, written back with SET, is accepted by PFCOUNT and PFADD, gives the same
 *   count and registers, and is never longer than Redis's own sparse string.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addElements, buildRegisters, decodeRedisHll, encodeRedisHll, estimateCardinality, estimateRedisHll, forEachRedisHllRegister } from '../src/index.js';
import { SeededRandom, rangeElements, type RangeSet } from './support/random.js';
import { connectRedis, getRaw, pfaddMany, pfcount, redisRegisters, useTestKeys } from './support/redis-oracle.js';
import { expectSameRegisters } from './support/registers.js';

const SEED = 0x9fadd;
const random = new SeededRandom(SEED);

// Around the sparse-to-dense switch (3000 bytes, roughly 1,500-2,500 elements) and the ends.
const fixedCounts = [0, 1, 2, 3, 4, 5, 8, 13, 50, 100, 300, 700, 1000, 1500, 1800, 2000, 2500, 3000, 5000, 20_000];
const bigCounts = [300_000, 1_000_000, 2_000_000];
const randomCaseCount = 200 - fixedCounts.length - bigCounts.length;
const counts = [
  ...fixedCounts,
  ...Array.from({ length: randomCaseCount }, () => random.logInt(100_000)),
  ...bigCounts,
];
const cases: RangeSet[] = counts.map((count) => ({ start: random.int(0, 1e9), count }));

const seenEncodings = { dense: 0, sparse: 0 };

describe(`PFADD sketches decoded and estimated (seed ${SEED})`, () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it.each(cases)('a set of $count elements from u$start', async (set) => {
    const keys = useTestKeys(redis);
    const key = keys.key('pfadd');
    await pfaddMany(redis, key, rangeElements(set));

    const raw = await getRaw(redis, key);
    const decoded = decodeRedisHll(raw);
    seenEncodings[decoded.encoding]++;
    expectSameRegisters(decoded.registers, await redisRegisters(redis, key), 'decoded vs PFDEBUG GETREG');
    expectSameRegisters(decoded.registers, buildRegisters(rangeElements(set)), 'decoded vs built in JS');

    const estimate = estimateCardinality(decoded.registers);
    expect(BigInt(estimate)).toBe(await pfcount(redis, key));
    expect(estimateRedisHll(raw)).toBe(estimate);
    const visited: number[] = [];
    forEachRedisHllRegister(raw, (index, rank) => visited.push(index, rank));
    const nonZero: number[] = [];
    decoded.registers.forEach((rank, index) => rank !== 0 && nonZero.push(index, rank));
    expect(visited).toEqual(nonZero);

    const encoded = encodeRedisHll(decoded.registers);
    if (decoded.encoding === 'sparse') {
      expect(encoded[4], 'a sketch Redis keeps sparse stays sparse').toBe(1);
      expect(encoded.length).toBeLessThanOrEqual(raw.length);
    }
    const copy = keys.key('encoded');
    await redis.set(copy, encoded);
    expect(await pfcount(redis, copy)).toBe(BigInt(estimate));
    expectSameRegisters(decodeRedisHll(await getRaw(redis, copy)).registers, decoded.registers, 'after SET');

    // Redis also takes further PFADDs on the string we wrote.
    const extra = [`extra-${set.start}`, `extra-${set.count}`];
    await redis.pfadd(copy, ...extra);
    const expected = Uint8Array.from(decoded.registers);
    addElements(expected, extra);
    expectSameRegisters(decodeRedisHll(await getRaw(redis, copy)).registers, expected, 'after PFADD on SET value');
  });

  it('covered both encodings', () => {
    expect(seenEncodings.sparse).toBeGreaterThanOrEqual(40);
    expect(seenEncodings.dense).toBeGreaterThanOrEqual(40);
  });
});

describe('element bytes hash like PFADD', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('binary elements of every length 0-40, and non-ASCII strings', async () => {
    const keys = useTestKeys(redis);
    const bytesRandom = new SeededRandom(SEED + 1);
    const elements: (string | Buffer)[] = [];
    for (let n = 0; n < 3000; n++) {
      const length = n % 41;
      elements.push(Buffer.from(Array.from({ length }, () => bytesRandom.int(0, 255))));
    }
    for (let n = 0; n < 3000; n++) elements.push(`é${n}🙂中${'ß'.repeat(n % 7)}`);
    elements.push('x'.repeat(5000)); // longer than the hash's scratch buffer
    await pfaddMany(redis, keys.key('mixed'), elements);
    const decoded = decodeRedisHll(await getRaw(redis, keys.key('mixed')));
    expectSameRegisters(decoded.registers, buildRegisters(elements));
  });
});
