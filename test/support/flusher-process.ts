/**
 * A real long-running flusher (`pnpm cli flusher`) in its own process, with what a test needs
 * to watch it: its log lines (each must be JSON), its metrics port, and its BullMQ jobs.
 */
import type { ChildProcess } from 'node:child_process';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { FLUSH_QUEUE } from '@rta/flusher';
import { spawnCli } from './child.js';
import { REDIS_URL } from './redis.js';
import { until } from './wait.js';

export interface LogLine {
  level: number;
  msg: string;
  time: number;
  [field: string]: unknown;
}

export interface FlusherProcess {
  child: ChildProcess;
  /** Every line written so far; `json` is undefined for a line that was not JSON. */
  lines: Array<{ text: string; json: LogLine | undefined }>;
  /** Parsed log lines with this message. */
  logged(msg: string): LogLine[];
  metricsPort: number;
  /** Finished flush jobs (completed or failed) that started at or after `since` (ms), oldest first. */
  jobsSince(since: number): Promise<Array<{ id: string; state: 'completed' | 'failed'; processedOn: number; finishedOn: number; failedReason?: string }>>;
  /** Prometheus text of its /metrics. */
  metrics(): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function startFlusherProcess(env: Record<string, string>): Promise<FlusherProcess> {
  const child = spawnCli(['flusher'], { LOG_LEVEL: 'info', FLUSHER_METRICS_PORT: '0', ...env });
  const lines: FlusherProcess['lines'] = [];
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let partial = '';
  const collect = (data: Buffer) => {
    const text = partial + data.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      if (line.trim() === '') continue;
      let json: LogLine | undefined;
      try {
        json = JSON.parse(line) as LogLine;
      } catch {
        json = undefined;
      }
      lines.push({ text: line, json });
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const logged = (msg: string) => lines.flatMap((l) => (l.json?.msg === msg ? [l.json] : []));
  await until(() => logged('flusher started').length > 0 || child.exitCode !== null, { what: 'the flusher to start', timeoutMs: 120_000 });
  if (child.exitCode !== null) throw new Error(`the flusher exited at start:\n${lines.map((l) => l.text).join('\n')}`);
  const metricsPort = Number(logged('flusher started')[0]!.metricsPort);

  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(FLUSH_QUEUE, { connection: redis, prefix: `{${env.REDIS_PREFIX}:bull}` });
  const finished = (job: Job, state: 'completed' | 'failed') => ({
    id: String(job.id),
    state,
    processedOn: job.processedOn ?? 0,
    finishedOn: job.finishedOn ?? 0,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
  });

  return {
    child,
    lines,
    logged,
    metricsPort,
    async jobsSince(since) {
      const [completed, failed] = await Promise.all([queue.getJobs(['completed'], 0, -1), queue.getJobs(['failed'], 0, -1)]);
      return [...completed.map((j) => finished(j, 'completed')), ...failed.map((j) => finished(j, 'failed'))]
        .filter((j) => j.processedOn >= since && j.finishedOn > 0)
        .sort((a, b) => a.processedOn - b.processedOn);
    },
    async metrics() {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return response.text();
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exit;
      await queue.close();
      redis.disconnect();
      return code;
    },
  };
}

/** The value of one sample of a Prometheus text, e.g. `rta_flush_events_total` or `rta_flush_failures_total{warehouse="postgres",code="WAREHOUSE_LOAD"}`. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
