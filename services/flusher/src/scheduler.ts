import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { flushClosedMinutes, flushDefaults, type FlushDeps, type FlushOptions } from './flush.js';

export interface FlushSchedulerOptions {
  /** A connection for BullMQ; it needs `maxRetriesPerRequest: null`. */
  connection: Redis;
  /** Redis key prefix; BullMQ's keys go under the hash tag `{<prefix>:bull}`. */
  prefix: string;
  /** Cron pattern of the flush job. */
  cron: string;
  flush: Omit<FlushOptions, 'now'>;
}

export const FLUSH_QUEUE = 'flush';

/**
 * A BullMQ job scheduler that enqueues one flush per cron tick, and a worker (concurrency 1)
 * that runs it. With several flusher processes each job runs once, on one of them; buckets are
 * also locked one by one, so a `cli flush` at the same time never loads a bucket twice.
 * A failed job is not retried: the next tick's flush picks up everything it left.
 */
export async function startFlushScheduler(deps: FlushDeps, options: FlushSchedulerOptions) {
  const prefix = `{${options.prefix}:bull}`;
  const queue = new Queue(FLUSH_QUEUE, { connection: options.connection, prefix });
  await queue.upsertJobScheduler(
    'flush-every-minute',
    { pattern: options.cron, tz: 'UTC' },
    { name: 'flush', opts: { attempts: 1, removeOnComplete: 100, removeOnFail: 500 } },
  );
  const worker = new Worker(
    FLUSH_QUEUE,
    async () => {
      // A tick on the minute boundary waits out the grace period, so the minute that just ended
      // is flushed now rather than a minute later.
      const graceMs = (options.flush.graceSeconds ?? flushDefaults.graceSeconds) * 1_000;
      const sinceBoundary = Date.now() % 60_000;
      if (sinceBoundary < graceMs) await sleep(graceMs - sinceBoundary + 50);
      const summary = await flushClosedMinutes(deps, options.flush);
      if (summary.batches > 0) deps.logger.info(summary, 'flushed');
      return summary;
    },
    { connection: options.connection, prefix, concurrency: 1 },
  );
  worker.on('failed', (_job, error) => deps.logger.error({ err: error }, 'flush failed; the next run retries'));
  worker.on('error', (error) => deps.logger.error({ err: error }, 'flush worker error'));
  return {
    queue,
    worker,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
