import type { Logger } from 'pino';
import { connectRedis, createRedis, type AppConfig } from '@rta/config';
import { AnalyticsStore } from '@rta/redis-store';
import { startFlushScheduler } from './scheduler.js';
import { createWarehouseFromConfig } from './warehouse-from-config.js';

/** Runs the flusher: migrates the warehouse, then flushes on the BullMQ schedule. */
export async function startFlusherService(config: AppConfig, logger: Logger) {
  const redis = createRedis(config.redisUrl, 'flusher');
  const bullmq = createRedis(config.redisUrl, 'bullmq');
  await connectRedis(redis);
  await connectRedis(bullmq);
  const warehouse = createWarehouseFromConfig(config.warehouse);
  await warehouse.migrate();
  const store = new AnalyticsStore(redis, { prefix: config.redisPrefix, maxValuesPerDimension: config.maxValuesPerDimension });
  const scheduler = await startFlushScheduler(
    { store, warehouse, logger },
    {
      connection: bullmq,
      prefix: config.redisPrefix,
      cron: config.flush.cron,
      flush: { graceSeconds: config.flush.graceSeconds, lockTtlMs: config.flush.lockSeconds * 1_000 },
    },
  );
  logger.info({ warehouse: warehouse.dialect, cron: config.flush.cron }, 'flusher started');
  return {
    async close() {
      await scheduler.close();
      await warehouse.close();
      redis.disconnect();
      bullmq.disconnect();
    },
  };
}
