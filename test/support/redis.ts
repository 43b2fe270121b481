import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A random key prefix per test: tests share one Redis and never flush it. */
export function randomPrefix(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

export function testRedis(options: { autoPipelining?: boolean } = {}): Redis {
  return new Redis(REDIS_URL, { enableAutoPipelining: options.autoPipelining ?? false, maxRetriesPerRequest: 2 });
}

/** Every key of a prefix: global keys (`<prefix>:…`) and bucket keys (`{<prefix>:…}…`). */
export async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  return [...(await scanKeys(redis, `${prefix}:*`)), ...(await scanKeys(redis, `{${prefix}:*`))].sort();
}

/** Every key matching a SCAN pattern. */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

export async function deleteKeysOf(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysOf(redis, prefix);
  for (let i = 0; i < keys.length; i += 1_000) await redis.unlink(...keys.slice(i, i + 1_000));
}

/** Keys with their serialised values, to prove rejected requests changed nothing. */
export async function snapshotOf(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  for (const key of await keysOf(redis, prefix)) {
    const dump = await redis.dumpBuffer(key);
    snapshot.set(key, dump ? dump.toString('base64') : '');
  }
  return snapshot;
}
