import type { Logger } from 'pino';
import { connectRedis, createRedis, type AppConfig } from '@rta/config';
import { createWarehouseFromConfig } from '@rta/flusher';
import { createTracker } from './server.js';

/**
 * Runs the tracker on `HOST:PORT` once Redis answers. The warehouse handle only serves the
 * dashboard's history queries (the flusher migrates and loads); adapters connect lazily.
 */
export async function startTrackerService(config: AppConfig, logger: Logger) {
  const redis = createRedis(config.redisUrl, 'tracker');
  await connectRedis(redis);
  const warehouse = createWarehouseFromConfig(config.warehouse);
  const tracker = createTracker({
    redis,
    sites: config.sites,
    prefix: config.redisPrefix,
    maxValuesPerDimension: config.maxValuesPerDimension,
    trustProxy: config.trustProxy,
    sessionIdleMinutes: config.sessionIdleMinutes,
    dashboardToken: config.dashboardToken,
    warehouse,
    logger,
  });
  const port = await tracker.listen(config.port, config.host);
  logger.info({ port, sites: config.sites, dashboard: config.dashboardToken ? '/dashboard' : 'locked (DASHBOARD_TOKEN unset)' }, 'tracker listening');
  return {
    port,
    async close() {
      await tracker.close();
      await warehouse.close();
      redis.disconnect();
    },
  };
}
