import { pino } from 'pino';
import { createTracker, type Tracker } from '@rta/tracker';
import { AnalyticsStore, type RedisClient } from '@rta/redis-store';
import { flushClosedMinutes, type FlushOptions, type FlushSummary } from '@rta/flusher';
import type { Warehouse } from '@rta/warehouse';
import { testRedis } from './redis.js';

export const silentLogger = pino({ level: 'silent' });

/** A tracker on a random loopback port whose clock the test moves. */
export interface TestTracker {
  tracker: Tracker;
  base: string;
  redis: RedisClient;
  setNow(ms: number): void;
  close(): Promise<void>;
}

export async function startTestTracker(options: {
  prefix: string;
  sites: string[];
  /** The tracker's clock; `'real'` for tests that need the live view's TTLs to be real. */
  now: number | 'real';
  maxValuesPerDimension?: number;
  dashboardToken?: string;
  warehouse?: Warehouse;
  /** The tracker's Redis client (closed with the tracker); default one to the shared test Redis. */
  redis?: RedisClient;
  waitReplicas?: number;
  /** Trust X-Forwarded-For from loopback; default: with a test clock only. */
  trustProxy?: boolean;
  /** GOALS of the dashboard. */
  goals?: string[];
}): Promise<TestTracker> {
  let now = options.now === 'real' ? 0 : options.now;
  const redis = options.redis ?? testRedis({ autoPipelining: true });
  const tracker = createTracker({
    redis,
    sites: options.sites,
    prefix: options.prefix,
    maxValuesPerDimension: options.maxValuesPerDimension,
    trustProxy: options.trustProxy ?? options.now !== 'real',
    clock: options.now === 'real' ? Date.now : () => now,
    dashboardToken: options.dashboardToken,
    warehouse: options.warehouse,
    goals: options.goals,
    waitReplicas: options.waitReplicas,
    logger: silentLogger,
  });
  const port = await tracker.listen(0, '127.0.0.1');
  return {
    tracker,
    base: `http://127.0.0.1:${port}`,
    redis,
    setNow: (ms) => {
      now = ms;
    },
    async close() {
      await tracker.close();
      redis.disconnect();
    },
  };
}

/** Flushes in this process with its own Redis connection. */
export async function flushOnce(prefix: string, warehouse: Warehouse, options: FlushOptions): Promise<FlushSummary> {
  const redis = testRedis();
  try {
    const store = new AnalyticsStore(redis, { prefix });
    return await flushClosedMinutes({ store, warehouse, logger: silentLogger }, options);
  } finally {
    redis.disconnect();
  }
}
