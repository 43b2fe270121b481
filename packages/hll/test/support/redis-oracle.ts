/**
 * Test support: a real Redis 7 as the oracle for the codec.
 *
 * The Redis at REDIS_URL (default redis://127.0.0.1:6379) is shared with other suites, so every
 * test writes only under its own random key prefix and deletes its keys when it finishes; no
 * test flushes a database. Integer replies are read as strings (`stringNumbers`) so that
 * PFCOUNT replies above 2^53 are compared exactly.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Elements per PFADD call and PFADD calls per pipeline round trip. */
const PFADD_BATCH = 5000;
const PIPELINE_DEPTH = 40;

export async function connectRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    stringNumbers: true,
    maxRetriesPerRequest: 2,
    // Bounded retries: up to 10 attempts, 50 ms apart growing to 500 ms, then give up.
    retryStrategy: (attempt) => (attempt > 10 ? null : Math.min(attempt * 50, 500)),
  });
  await redis.connect();
  return redis;
}

/** Key names under a random prefix, deleted when the current test finishes. */
export interface TestKeys {
  readonly prefix: string;
  key(name: string): string;
}

/** Call inside a test: its keys are deleted by `onTestFinished`, pass or fail. */
export function useTestKeys(redis: Redis): TestKeys {
  const keys = createTestKeys();
  onTestFinished(() => deleteTestKeys(redis, keys));
  return keys;
}

export function createTestKeys(): TestKeys {
  const prefix = `test:hll:${randomUUID()}:`;
  return { prefix, key: (name) => `${prefix}${name}` };
}

/** Deletes every key under the prefix (SCAN, so keys written by Redis itself are found too). */
export async function deleteTestKeys(redis: Redis, keys: TestKeys): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.prefix}*`, 'COUNT', 1000);
    if (found.length > 0) await redis.del(...found);
    cursor = next;
  } while (cursor !== '0');
}

/** PFADD of many elements: PFADD_BATCH elements per call, pipelined. */
export async function pfaddMany(redis: Redis, key: string, elements: Iterable<string | Buffer>): Promise<void> {
  let pipeline = redis.pipeline();
  let queued = 0;
  let batch: (string | Buffer)[] = [];
  const flush = async (): Promise<void> => {
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
    pipeline = redis.pipeline();
    queued = 0;
  };
  for (const element of elements) {
    batch.push(element);
    if (batch.length === PFADD_BATCH) {
      pipeline.pfadd(key, ...batch);
      batch = [];
      if (++queued === PIPELINE_DEPTH) await flush();
    }
  }
  if (batch.length > 0) pipeline.pfadd(key, ...batch);
  // PFADD with no elements still creates the key, as an empty sparse HLL.
  if (queued === 0 && batch.length === 0) pipeline.pfadd(key);
  await flush();
}

/** PFCOUNT of one or more keys, exactly, as a bigint. */
export async function pfcount(redis: Redis, ...keys: string[]): Promise<bigint> {
  return BigInt(String(await redis.call('PFCOUNT', ...keys)));
}

/** The raw string stored at `key`; throws if the key is missing. */
export async function getRaw(redis: Redis, key: string): Promise<Buffer> {
  const value = await redis.getBuffer(key);
  if (value === null) throw new Error(`key ${key} does not exist`);
  return value;
}

/**
 * Redis's own view of a key's registers (PFDEBUG GETREG). GETREG converts a sparse key to
 * dense in place, so it reads a COPY and leaves `key` as it was.
 */
export async function redisRegisters(redis: Redis, key: string): Promise<Uint8Array> {
  const copy = `${key}:getreg`;
  await redis.copy(key, copy, 'REPLACE');
  const reply = (await redis.call('PFDEBUG', 'GETREG', copy)) as (string | number)[];
  await redis.del(copy);
  return Uint8Array.from(reply, Number);
}
