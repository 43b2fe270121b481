/**
 * Merging against PFMERGE and multi-key PFCOUNT: 100 merges of 2 to 60 sketches drawn from a
 * pool of sparse and dense PFADD sketches (up to 60,000 elements each), sketches this codec
 * wrote with SET, and missing keys. For each merge:
 * - mergeRegisters of the decoded sources equals the decoded PFMERGE result, byte for byte
 *   (a destination that already exists counts as a source, as in Redis);
 * - estimateCardinality of the merge equals PFCOUNT of the destination and the multi-key
 *   PFCOUNT of the sources;
 * - the merge encoded by this codec and written with SET is a valid PFMERGE source.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRedisHll, encodeRedisHll, estimateCardinality, mergeRegisters } from '../src/index.js';
import { SeededRandom, rangeElements, syntheticRegisters } from './support/random.js';
import {
  connectRedis,
  createTestKeys,
  deleteTestKeys,
  getRaw,
  pfaddMany,
  pfcount,
  useTestKeys,
  type TestKeys,
} from './support/redis-oracle.js';
import { expectSameRegisters } from './support/registers.js';

const SEED = 0x3e26e;
const MERGE_CASES = 100;

interface PoolSketch {
  key: string;
  registers: Uint8Array;
  origin: 'pfadd-sparse' | 'pfadd-dense' | 'codec-sparse' | 'codec-dense' | 'missing';
}

describe(`PFMERGE of up to 60 sketches (seed ${SEED})`, () => {
  const random = new SeededRandom(SEED);
  let redis: Redis;
  let poolKeys: TestKeys;
  const pool: PoolSketch[] = [];

  beforeAll(async () => {
    redis = await connectRedis();
    poolKeys = createTestKeys();
    const addFromPfadd = async (name: string, count: number): Promise<void> => {
      const key = poolKeys.key(name);
      await pfaddMany(redis, key, rangeElements({ start: random.int(0, 1e9), count }));
      const decoded = decodeRedisHll(await getRaw(redis, key));
      pool.push({ key, registers: decoded.registers, origin: `pfadd-${decoded.encoding}` });
    };
    for (let n = 0; n < 60; n++) await addFromPfadd(`small-${n}`, random.logInt(2000));
    for (let n = 0; n < 30; n++) await addFromPfadd(`large-${n}`, random.int(2000, 60_000));
    for (let n = 0; n < 12; n++) {
      const key = poolKeys.key(`codec-${n}`);
      const sparse = n % 2 === 0;
      const registers = sparse
        ? syntheticRegisters(random, 0.002 * (n + 1), 32)
        : syntheticRegisters(random, 0.5 * (n + 1), 51);
      await redis.set(key, encodeRedisHll(registers, { encoding: sparse ? 'sparse' : 'dense' }));
      pool.push({ key, registers, origin: sparse ? 'codec-sparse' : 'codec-dense' });
    }
    pool.push({ key: poolKeys.key('missing'), registers: new Uint8Array(16384), origin: 'missing' });
    const origins = new Set(pool.map((sketch) => sketch.origin));
    expect([...origins].sort()).toEqual(['codec-dense', 'codec-sparse', 'missing', 'pfadd-dense', 'pfadd-sparse']);
  });

  afterAll(async () => {
    await deleteTestKeys(redis, poolKeys);
    await redis.quit();
  });

  const destinationEncodings = { dense: 0, sparse: 0 };
  const sourceCounts = Array.from({ length: MERGE_CASES }, (_, n) => (n === 0 ? 2 : n === 1 ? 60 : 0));

  it.each(sourceCounts.map((fixed, caseNumber) => ({ caseNumber, fixed })))(
    'merge case $caseNumber',
    async ({ fixed }) => {
      const keys = useTestKeys(redis);
      const sourceCount = fixed || random.int(2, 60);
      // Mostly small sources, so that some merges stay sparse in Redis.
      const onlySmall = random.next() < 0.3;
      const candidates = onlySmall ? pool.filter((s) => s.origin === 'pfadd-sparse') : pool;
      const sources = Array.from({ length: sourceCount }, () => random.pick(candidates));
      const expected = mergeRegisters(sources.map((s) => s.registers));

      const destination = keys.key('dest');
      let expectedWithDestination = expected;
      if (random.next() < 0.25) {
        // An existing destination is one of the sources of PFMERGE.
        await pfaddMany(redis, destination, rangeElements({ start: random.int(0, 1e9), count: random.logInt(5000) }));
        const before = decodeRedisHll(await getRaw(redis, destination)).registers;
        expectedWithDestination = mergeRegisters([before, expected]);
      }
      await redis.pfmerge(destination, ...sources.map((s) => s.key));
      const merged = decodeRedisHll(await getRaw(redis, destination));
      destinationEncodings[merged.encoding]++;
      expectSameRegisters(merged.registers, expectedWithDestination, 'PFMERGE result');
      expect(BigInt(estimateCardinality(expectedWithDestination))).toBe(await pfcount(redis, destination));
      expect(BigInt(estimateCardinality(expected))).toBe(await pfcount(redis, ...sources.map((s) => s.key)));

      // Our encoding of the merge is itself a valid PFMERGE source.
      const written = keys.key('written');
      await redis.set(written, encodeRedisHll(expected));
      expect(await pfcount(redis, written)).toBe(BigInt(estimateCardinality(expected)));
      const remerged = keys.key('remerged');
      await redis.pfmerge(remerged, written, sources[0]!.key);
      expectSameRegisters(decodeRedisHll(await getRaw(redis, remerged)).registers, expected, 'PFMERGE of SET value');
    },
    30_000,
  );

  it('produced sparse and dense destinations', () => {
    expect(destinationEncodings.sparse).toBeGreaterThanOrEqual(5);
    expect(destinationEncodings.dense).toBeGreaterThanOrEqual(5);
  });
});
