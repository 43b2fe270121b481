/**
 * Our tracker for the benchmark, as `pnpm cli tracker` runs it (the same config, clients and
 * createTracker), with switches the CLI does not have: BENCH_LIVE=0 turns sessions and the live
 * view off, for the "counters only" variant; BENCH_WORKERS=N runs N such processes on one port
 * with node:cluster, as TRACKER_WORKERS does (default 1).
 */
import cluster from 'node:cluster';
import { pino } from 'pino';
import { connectRedis, createRedis, loadConfig } from '@rta/config';
import { createTracker, trackerOptions } from '@rta/tracker';

const workers = Number(process.env.BENCH_WORKERS ?? 1);
if (workers > 1 && cluster.isPrimary) {
  const ports = await Promise.all(
    Array.from({ length: workers }, () => new Promise<number>((resolve) => cluster.fork().once('message', (port: number) => resolve(port)))),
  );
  process.stdout.write(`listening ${ports[0]}\n`);
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0));
  });
} else {
  const config = loadConfig();
  const logger = pino({ level: 'warn' });
  const redis = createRedis(config, 'tracker', logger);
  await connectRedis(redis, config);
  const tracker = createTracker({ ...trackerOptions(config, redis, logger), live: process.env.BENCH_LIVE !== '0' });
  // Workers listen on port 0 too: node:cluster gives them all the same port.
  const port = await tracker.listen(0, '127.0.0.1');
  if (cluster.isWorker) process.send!(port);
  else process.stdout.write(`listening ${port}\n`);
  process.on('SIGTERM', () => void tracker.close().then(() => process.exit(0)));
}
