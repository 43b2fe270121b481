import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { AppConfig } from '@rta/config';

/** What a worker tells its primary once it listens, or why it could not start. */
type WorkerMessage = { type: 'rta:ready'; port: number; metricsPort: number } | { type: 'rta:failed'; message: string };

/** A worker that died after it was serving is replaced after this pause (ms). */
const RESTART_AFTER_MS = 1_000;

/**
 * In the primary: forks `config.trackerWorkers` tracker processes sharing `PORT` (node:cluster
 * hands each connection to one of them) and answers their `/metrics` requests with everyone's
 * metrics. Resolves once every worker listens; rejects with the first start-up error a worker
 * reports (e.g. a busy PORT), after stopping the others. A worker that dies later is replaced.
 */
export async function startTrackerWorkers(config: AppConfig, logger: Logger): Promise<{ port: number; metricsPort: number; close(): Promise<void> }> {
  (await import('@rta/tracker')).serveWorkerMetrics();
  let stopping = false;
  const workers = new Set<Worker>();

  const fork = () =>
    new Promise<{ port: number; metricsPort: number }>((resolve, reject) => {
      const worker = cluster.fork();
      workers.add(worker);
      let serving = false;
      worker.on('message', (message: WorkerMessage) => {
        if (message?.type === 'rta:ready') {
          serving = true;
          resolve(message);
        } else if (message?.type === 'rta:failed') reject(new Error(message.message));
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        if (!serving) return reject(new Error(`a tracker worker exited before it listened (${signal ?? `exit code ${code}`})`));
        if (stopping) return;
        logger.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'tracker worker died; starting another');
        setTimeout(() => {
          if (!stopping) fork().catch((err: unknown) => logger.error({ err }, 'a replacement tracker worker did not start'));
        }, RESTART_AFTER_MS);
      });
    });

  const close = async () => {
    stopping = true;
    await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  };

  try {
    const listening = await Promise.all(Array.from({ length: config.trackerWorkers }, fork));
    logger.info({ workers: config.trackerWorkers, port: listening[0]!.port }, 'tracker workers listening');
    return { ...listening[0]!, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * In a worker: runs `start` (the tracker service), tells the primary it listens, and closes it
 * on SIGTERM or SIGINT, or when the primary is gone.
 */
export async function runTrackerWorker(start: () => Promise<{ port: number; metricsPort: number; close(): Promise<void> }>, logger: Logger): Promise<void> {
  // A Ctrl-C reaches the workers too, maybe while they start: each then closes what it has.
  let service: Awaited<ReturnType<typeof start>> | undefined;
  let starting = true;
  let stopping = false;
  const stop = async () => {
    await service?.close().catch((err: unknown) => logger.error({ err }, 'close failed'));
    process.exit(0);
  };
  const onStop = () => {
    if (stopping) return;
    stopping = true;
    if (!starting) void stop();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('disconnect', onStop);
  try {
    service = await start();
  } catch (error) {
    if (stopping) return stop();
    process.send!({ type: 'rta:failed', message: error instanceof Error ? error.message : String(error) } satisfies WorkerMessage, () => process.exit(1));
    return;
  }
  starting = false;
  if (stopping) return stop();
  process.send!({ type: 'rta:ready', port: service.port, metricsPort: service.metricsPort } satisfies WorkerMessage);
}
