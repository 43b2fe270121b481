/**
 * One flush in a process of its own, as `pnpm cli flush` runs it, printing its summary and the
 * process's peak RSS as JSON: the flush benchmark's flusher.
 */
import { pino } from 'pino';
import { connectRedis, createRedis, loadConfig } from '@rta/config';
import { AnalyticsStore } from '@rta/redis-store';
import { createWarehouseFromConfig, flushClosedMinutes } from '@rta/flusher';

const config = loadConfig({ sitesRequired: false });
const redis = createRedis(config, 'flusher');
await connectRedis(redis, config);
const warehouse = createWarehouseFromConfig(config.warehouse);
await warehouse.migrate();
const started = Date.now();
const summary = await flushClosedMinutes(
  { store: new AnalyticsStore(redis, { prefix: config.redisPrefix, maxValuesPerDimension: config.maxValuesPerDimension }), warehouse, logger: pino({ level: 'warn' }) },
  { graceSeconds: 0 },
);
const durationMs = Date.now() - started;
await warehouse.close();
redis.disconnect();
process.stdout.write(`${JSON.stringify({ ...summary, durationMs, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
