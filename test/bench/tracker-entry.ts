/**
 * Our tracker for the benchmark, as `pnpm cli tracker` runs it (the same config, clients and
 * createTracker), with one switch the CLI does not have: BENCH_LIVE=0 turns sessions and the
 * live view off, for the "counters only" variant.
 */
import { pino } from 'pino';
import { connectRedis, createRedis, loadConfig } from '@rta/config';
import { createTracker, trackerOptions } from '@rta/tracker';

const config = loadConfig();
const logger = pino({ level: 'warn' });
const redis = createRedis(config, 'tracker', logger);
await connectRedis(redis, config);
const tracker = createTracker({ ...trackerOptions(config, redis, logger), live: process.env.BENCH_LIVE !== '0' });
const port = await tracker.listen(0, '127.0.0.1');
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => void tracker.close().then(() => process.exit(0)));
