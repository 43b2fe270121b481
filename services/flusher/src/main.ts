import type { Logger } from 'pino';
import { connectRedis, createRedis, type AppConfig } from '@rta/config';
import { AnalyticsStore } from '@rta/redis-store';
import { createFlusherMetrics, startMetricsServer } from './metrics.js';
import { describeFailure, startFlushScheduler } from './scheduler.js';
import { createWarehouseFromConfig } from './warehouse-from-config.js';

/**
 * Runs the flusher: flushes on the BullMQ schedule and serves `/metrics` on
 * FLUSHER_METRICS_PORT. The warehouse is migrated at start; if it cannot be reached then, the
 * flusher starts anyway, says so, and migrates before the next flush instead, so it recovers
 * by itself once the warehouse is back. A warehouse setting that cannot work stops it.
 */
export async function startFlusherService(config: AppConfig, logger: Logger) {
  const redis = createRedis(config, 'flusher', logger);
  const bullmq = createRedis(config, 'bullmq', logger);
  await connectRedis(redis, config);
  await connectRedis(bullmq, config);
  const warehouse = createWarehouseFromConfig(config.warehouse);
  let migration: Promise<void> | undefined;
  const migrate = () =>
    (migration ??= warehouse.migrate().catch((error: unknown) => {
      migration = undefined;
      throw error;
    }));
  await migrate().catch(async (error: unknown) => {
    // A setting that can never work (a DuckDB path that is a folder, a bad Redshift or Snowflake
    // option) stops the flusher at once; a warehouse that is only unreachable for now does not.
    if ((error as { code?: string }).code === 'WAREHOUSE_CONFIG') {
      await warehouse.close().catch(() => undefined);
      redis.disconnect();
      bullmq.disconnect();
      throw error;
    }
    logger.error(describeFailure(error, warehouse.dialect), 'warehouse migration failed; it runs again before each flush');
  });
  const store = new AnalyticsStore(redis, { prefix: config.redisPrefix, maxValuesPerDimension: config.maxValuesPerDimension });
  const metrics = createFlusherMetrics({ store, warehouse: warehouse.dialect, graceSeconds: config.flush.graceSeconds });
  const metricsServer = await startMetricsServer(metrics.registry, config.flush.metricsPort, config.host);
  const scheduler = await startFlushScheduler(
    { store, warehouse, logger },
    {
      connection: bullmq,
      prefix: config.redisPrefix,
      cron: config.flush.cron,
      flush: { graceSeconds: config.flush.graceSeconds, lockTtlMs: config.flush.lockSeconds * 1_000, claimReplicas: config.flush.claimReplicas },
      jobTimeoutMs: config.flush.jobTimeoutSeconds * 1_000,
      prepare: migrate,
      metrics,
    },
  );
  logger.info({ warehouse: warehouse.dialect, cron: config.flush.cron, metricsPort: metricsServer.port, redis: config.redisCluster ? 'cluster' : 'standalone' }, 'flusher started');
  return {
    metricsPort: metricsServer.port,
    async close() {
      await scheduler.close();
      await metricsServer.close();
      await warehouse.close();
      redis.disconnect();
      bullmq.disconnect();
    },
  };
}
