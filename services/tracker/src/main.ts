import type { Logger } from 'pino';
import { connectRedis, createRedis, type AppConfig } from '@rta/config';
import { createTracker } from './server.js';

/** Runs the tracker on `HOST:PORT` once Redis answers. */
export async function startTrackerService(config: AppConfig, logger: Logger) {
  const redis = createRedis(config.redisUrl, 'tracker');
  await connectRedis(redis);
  const tracker = createTracker({
    redis,
    sites: config.sites,
    prefix: config.redisPrefix,
    maxValuesPerDimension: config.maxValuesPerDimension,
    trustProxy: config.trustProxy,
    logger,
  });
  const port = await tracker.listen(config.port, config.host);
  logger.info({ port, sites: config.sites }, 'tracker listening');
  return {
    port,
    async close() {
      await tracker.close();
      redis.disconnect();
    },
  };
}
