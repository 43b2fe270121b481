import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { COMBINATION_SEPARATOR, pageDigest, type BucketKeys } from '@rta/redis-store';
import { createTracker, type Tracker, type TrackerOptions } from '../src/index.js';
import { REDIS_URL, deleteKeysOf, randomPrefix } from '../../../test/support/redis.js';

export { REDIS_URL, deleteKeysOf, keysOf, randomPrefix, snapshotOf } from '../../../test/support/redis.js';
export { inParallel } from '../../../test/support/http-client.js';
export const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
export const TOKEN = 'a-dashboard-token-of-32-characters';

/** Polls `condition` until it holds (bounded at 20 s for a busy machine; never a fixed sleep). */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** pino writing JSON lines into an array (each line parsed, so a line that is not JSON throws). */
export function capturedLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) }) };
}

export interface RunningTracker {
  tracker: Tracker;
  base: string;
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

/** A tracker on a random loopback port with its own Redis client; `close` also deletes its keys. */
export async function startTracker(options: Partial<TrackerOptions> & { prefix?: string } = {}): Promise<RunningTracker> {
  const prefix = options.prefix ?? randomPrefix();
  const redis = (options.redis as Redis | undefined) ?? new Redis(REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  const tracker = createTracker({ sites: ['example.com'], logger: pino({ level: 'silent' }), ...options, redis, prefix });
  const base = `http://127.0.0.1:${await tracker.listen(0, '127.0.0.1')}`;
  return {
    tracker,
    base,
    redis,
    prefix,
    async close() {
      await tracker.close();
      if (redis.status === 'ready') await deleteKeysOf(redis, prefix);
      redis.disconnect();
    },
  };
}

/**
 * Visitors of a page in a bucket generation, as the warehouse merges them: the page's
 * HyperLogLog with those of its page views' combinations (PFCOUNT of their union).
 */
export async function pageVisitors(redis: Redis, bucket: BucketKeys, page: string, generation = 0): Promise<number> {
  const fields = await redis.hkeys(bucket.counter('combination', generation));
  const combinations = fields.filter((f) => f.startsWith(`pageview${COMBINATION_SEPARATOR}${page}${COMBINATION_SEPARATOR}`)).map((f) => f.slice(f.indexOf(COMBINATION_SEPARATOR) + 1));
  return redis.pfcount(bucket.pageHll(pageDigest(page), generation), ...combinations.map((c) => bucket.combinationHll(pageDigest(c), generation)));
}
