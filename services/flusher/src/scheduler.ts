import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import type { RedisClient } from '@rta/redis-store';
import type { Logger } from 'pino';
import { withDeadline } from '@rta/warehouse';
import { flushClosedMinutes, flushDefaults, type FlushDeps, type FlushOptions, type FlushSummary } from './flush.js';
import { errorCode, type FlusherMetrics } from './metrics.js';

export interface FlushSchedulerOptions {
  /** A connection for BullMQ; it needs `maxRetriesPerRequest: null`. */
  connection: RedisClient;
  /** Redis key prefix; BullMQ's keys go under the hash tag `{<prefix>:bull}`. */
  prefix: string;
  /** Cron pattern of the flush job (5 fields, or 6 with seconds first). */
  cron: string;
  flush: Omit<FlushOptions, 'now'>;
  /** A flush job still running after this long fails; the next run takes over. Milliseconds, default 600,000. */
  jobTimeoutMs?: number;
  /** Runs before every flush (the migration, until it succeeded once); a failure fails that job. */
  prepare?: () => Promise<void>;
  metrics?: FlusherMetrics;
}

export const FLUSH_QUEUE = 'flush';
/** How often the flush schedule is written again (ms), in case Redis lost it. */
const RESCHEDULE_MS = 60_000;

export const schedulerDefaults = {
  jobTimeoutMs: 600_000,
  /**
   * BullMQ's job lock: the worker renews it every half period while the job runs; a worker that
   * died leaves the job "stalled" once the lock lapses, and the stalled check (every
   * `stalledIntervalMs`) moves it back to wait once (`maxStalledCount`), then fails it.
   */
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 1,
} as const;

/** A flush job that ran past its timeout (`code` FLUSH_JOB_TIMEOUT). */
export class FlushJobTimeoutError extends Error {
  override readonly name = 'FlushJobTimeoutError';
  readonly code = 'FLUSH_JOB_TIMEOUT';
}

/**
 * A BullMQ job scheduler that enqueues one flush per cron tick, and a worker (concurrency 1)
 * that runs it. With several flusher processes each job runs once, on one of them; buckets are
 * also locked one by one, so a `cli flush` at the same time never loads a bucket twice.
 *
 * Recovery without a manual step: a failed job is not retried (attempts 1); the next tick's
 * flush picks up everything it left, oldest minute first. Every warehouse wait is bounded by
 * the adapters' timeouts, and the job as a whole by `jobTimeoutMs`: a job past it fails, so the
 * worker takes the next one. A flush cannot be cancelled from outside, so one that timed out
 * may still be running: the next job waits for it (within its own timeout) rather than run
 * beside it, which keeps minutes in order. Each failure is logged once, as one JSON line with
 * its error code, the batch id and the cause.
 */
export async function startFlushScheduler(deps: FlushDeps, options: FlushSchedulerOptions) {
  const prefix = `{${options.prefix}:bull}`;
  const jobTimeoutMs = options.jobTimeoutMs ?? schedulerDefaults.jobTimeoutMs;
  const graceMs = (options.flush.graceSeconds ?? flushDefaults.graceSeconds) * 1_000;
  const queue = new Queue(FLUSH_QUEUE, { connection: options.connection, prefix });
  // The schedule lives in Redis: a Redis restarted empty (or a failover that lost it) would
  // stop every flush. It is written again at every reconnect and every minute.
  const schedule = () =>
    queue.upsertJobScheduler(
      'flush-every-minute',
      { pattern: options.cron, tz: 'UTC' },
      { name: 'flush', opts: { attempts: 1, removeOnComplete: 100, removeOnFail: 500 } },
    );
  await schedule();
  const reschedule = () => void schedule().catch((error: unknown) => deps.logger.warn({ err: error }, 'could not write the flush schedule; retrying'));
  options.connection.on('ready', reschedule);
  const timer = setInterval(reschedule, RESCHEDULE_MS);
  timer.unref();

  /** The flush of the last job, while it runs (it may outlive its job's timeout). */
  let running: Promise<unknown> | undefined;
  let failedInARow = 0;

  async function flush(): Promise<FlushSummary> {
    await options.prepare?.();
    // A tick on the minute boundary waits out the grace period, so the minute that just ended
    // is flushed now rather than a minute later.
    const sinceBoundary = Date.now() % 60_000;
    if (sinceBoundary < graceMs) await sleep(graceMs - sinceBoundary + 50);
    return flushClosedMinutes(deps, options.flush);
  }

  const timedOut = (what: string) => () => new FlushJobTimeoutError(`${what} after ${jobTimeoutMs} ms (FLUSH_JOB_TIMEOUT_SECONDS)`);

  async function runJob(): Promise<FlushSummary> {
    const deadline = Date.now() + jobTimeoutMs;
    if (running) {
      await withDeadline(running.catch(() => undefined), jobTimeoutMs, 'previous flush', {
        error: timedOut('the previous flush, which timed out, is still running'),
      });
    }
    const current = flush();
    running = current;
    current.then(
      () => void (running === current && (running = undefined)),
      () => void (running === current && (running = undefined)),
    );
    return withDeadline(current, Math.max(deadline - Date.now(), 1), 'flush', { error: timedOut('the flush job timed out') });
  }

  const worker = new Worker(
    FLUSH_QUEUE,
    async () => {
      const started = performance.now();
      try {
        const summary = await runJob();
        options.metrics?.recordSuccess(summary, (performance.now() - started) / 1_000);
        if (failedInARow > 0) deps.logger.info({ failedRuns: failedInARow }, 'flush recovered');
        failedInARow = 0;
        if (summary.batches > 0) deps.logger.info(summary, 'flushed');
        return summary;
      } catch (error) {
        failedInARow++;
        options.metrics?.recordFailure(error, (performance.now() - started) / 1_000);
        throw error;
      }
    },
    {
      connection: options.connection,
      prefix,
      concurrency: 1,
      lockDuration: schedulerDefaults.lockDurationMs,
      stalledInterval: schedulerDefaults.stalledIntervalMs,
      maxStalledCount: schedulerDefaults.maxStalledCount,
    },
  );
  worker.on('failed', (job, error) => deps.logger.error(describeFailure(error, deps.warehouse.dialect, job?.id), 'flush failed; the next run retries'));
  worker.on('error', (error) => deps.logger.error({ err: error, code: errorCode(error) }, 'flush worker error'));
  return {
    queue,
    worker,
    async close() {
      clearInterval(timer);
      options.connection.off('ready', reschedule);
      await worker.close();
      await queue.close();
    },
  };
}

/** The fields of the one log line of a failed flush: code, batch id, warehouse, cause. */
export function describeFailure(error: unknown, warehouse: string, jobId?: string) {
  const e = error as { batchId?: unknown; cause?: unknown } | undefined;
  const cause = e?.cause instanceof Error ? e.cause.message : e?.cause === undefined ? undefined : String(e.cause);
  return {
    err: error,
    code: errorCode(error),
    warehouse,
    ...(typeof e?.batchId === 'string' ? { batchId: e.batchId } : {}),
    ...(cause ? { cause } : {}),
    ...(jobId ? { jobId } : {}),
  };
}
