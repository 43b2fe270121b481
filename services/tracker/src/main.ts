import type { Logger } from 'pino';
import { connectRedis, createRedis, type AppConfig } from '@rta/config';
import { createWarehouseFromConfig } from '@rta/flusher';
import { createTracker, type TrackerOptions } from './server.js';

/**
 * Runs the tracker on `HOST:PORT` once Redis answers. The warehouse handle serves the
 * dashboard's history queries and keeps the goals added on it (the flusher migrates and loads);
 * adapters connect lazily.
 */
export async function startTrackerService(config: AppConfig, logger: Logger) {
  const redis = createRedis(config, 'tracker', logger);
  await connectRedis(redis, config);
  const warehouse = createWarehouseFromConfig(config.warehouse);
  const tracker = createTracker({ ...trackerOptions(config, redis, logger), warehouse });
  let port: number;
  let metricsPort: number;
  try {
    port = await tracker.listen(config.port, config.host).catch((error: NodeJS.ErrnoException) => {
      throw listenError(error, 'PORT', config.host, config.port);
    });
    metricsPort =
      config.metrics.port === undefined
        ? port
        : await tracker.listenMetrics(config.metrics.port, config.host).catch((error: NodeJS.ErrnoException) => {
            throw listenError(error, 'METRICS_PORT', config.host, config.metrics.port!);
          });
  } catch (error) {
    await tracker.close();
    await warehouse.close();
    redis.disconnect();
    throw error;
  }
  logger.info(
    { port, metricsPort, sites: config.sites, redis: config.redisCluster ? 'cluster' : 'standalone', dashboard: config.dashboardToken ? '/dashboard' : 'locked (DASHBOARD_TOKEN unset)' },
    'tracker listening',
  );
  return {
    port,
    metricsPort,
    async close() {
      await tracker.close();
      await warehouse.close();
      redis.disconnect();
    },
  };
}

/** The tracker's options from the configuration (without the warehouse, which only serves the dashboard's history). */
export function trackerOptions(config: AppConfig, redis: TrackerOptions['redis'], logger: Logger): TrackerOptions {
  return {
    redis,
    sites: config.sites,
    prefix: config.redisPrefix,
    maxValuesPerDimension: config.maxValuesPerDimension,
    trustProxy: config.trustProxy,
    geoDatabase: config.geoDatabase,
    goals: config.goals,
    sessionIdleMinutes: config.sessionIdleMinutes,
    sessionCap: config.sessionCap,
    waitReplicas: config.redisWaitReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
    dashboardToken: config.dashboardToken,
    metrics: { ownPort: config.metrics.port !== undefined, token: config.metrics.token },
    logger,
  };
}

/** A failed listen as one line naming the variable to change, with the system's code. */
function listenError(error: NodeJS.ErrnoException, variable: 'PORT' | 'METRICS_PORT', host: string, port: number): Error {
  const where = `${host}:${port}`;
  const message: Record<string, string> = {
    EADDRINUSE: `${variable}: ${port} is already in use (EADDRINUSE on ${where})`,
    EACCES: `${variable}: ${port} needs privileges this process lacks (EACCES on ${where}); use a port above 1023`,
    EADDRNOTAVAIL: `HOST: ${host} is not an address of this machine (EADDRNOTAVAIL)`,
    ENOTFOUND: `HOST: ${host} does not resolve (ENOTFOUND)`,
  };
  return new Error(message[error.code ?? ''] ?? `${variable}: cannot listen on ${where} (${error.code ?? error.message})`, { cause: error });
}
