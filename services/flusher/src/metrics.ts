import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { minuteOf, type AnalyticsStore } from '@rta/redis-store';
import type { FlushSummary } from './flush.js';

export interface FlusherMetricsOptions {
  store: AnalyticsStore;
  /** The warehouse dialect, the `warehouse` label of failures. */
  warehouse: string;
  /** A minute counts as backlog once it ended this long ago (FLUSH_GRACE_SECONDS). */
  graceSeconds: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Prometheus metrics of one flusher process; its own registry, served by `startMetricsServer`. */
export function createFlusherMetrics(options: FlusherMetricsOptions) {
  const now = options.now ?? Date.now;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rta_flusher_' });
  const registers = [registry];

  // Both backlog gauges come from one read of Redis per scrape (prom-client collects them at once).
  let reading: Promise<{ minutes: number; oldestAgeSeconds: number }> | undefined;
  const readBacklog = () =>
    (reading ??= (async () => {
      try {
        const buckets = await options.store.backlog(minuteOf(now() - options.graceSeconds * 1_000));
        const oldest = buckets.length === 0 ? undefined : Math.min(...buckets.map((b) => b.minute));
        return { minutes: new Set(buckets.map((b) => b.minute)).size, oldestAgeSeconds: oldest === undefined ? 0 : (now() - oldest) / 1_000 };
      } catch {
        return { minutes: Number.NaN, oldestAgeSeconds: Number.NaN };
      } finally {
        setImmediate(() => (reading = undefined));
      }
    })());
  new Gauge({
    name: 'rta_flush_backlog_minutes',
    help: 'Closed minutes that still hold unloaded data (any site), read from Redis at scrape time; NaN when Redis did not answer.',
    registers,
    async collect() {
      this.set((await readBacklog()).minutes);
    },
  });
  new Gauge({
    name: 'rta_flush_oldest_pending_minute_age_seconds',
    help: 'Seconds since the start of the oldest closed minute that still holds unloaded data; 0 when none, NaN when Redis did not answer.',
    registers,
    async collect() {
      this.set((await readBacklog()).oldestAgeSeconds);
    },
  });

  const metrics = {
    registry,
    duration: new Histogram({
      name: 'rta_flush_duration_seconds',
      help: 'Duration of flush jobs, by outcome (success, failure).',
      labelNames: ['outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    batches: new Counter({
      name: 'rta_flush_batches_total',
      help: 'Batches flushed, by status: loaded, or already_loaded (in the ledger from an earlier, interrupted flush).',
      labelNames: ['status'] as const,
      registers,
    }),
    rows: new Counter({
      name: 'rta_flush_rows_total',
      help: 'Rows loaded into the warehouse, by table (event_counts, unique_visitors).',
      labelNames: ['table'] as const,
      registers,
    }),
    events: new Counter({ name: 'rta_flush_events_total', help: 'Events loaded into the warehouse.', registers }),
    failures: new Counter({
      name: 'rta_flush_failures_total',
      help: 'Flush jobs that failed, by warehouse and error code (WAREHOUSE_TIMEOUT, WAREHOUSE_LOAD, …).',
      labelNames: ['warehouse', 'code'] as const,
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'rta_flush_last_success_timestamp_seconds',
      help: 'When the last flush job succeeded, seconds since the epoch; 0 before the first.',
      registers,
    }),

    recordSuccess(summary: FlushSummary, seconds: number): void {
      metrics.duration.observe({ outcome: 'success' }, seconds);
      metrics.batches.inc({ status: 'loaded' }, summary.batches - summary.alreadyLoaded);
      metrics.batches.inc({ status: 'already_loaded' }, summary.alreadyLoaded);
      metrics.rows.inc({ table: 'event_counts' }, summary.counterRows);
      metrics.rows.inc({ table: 'unique_visitors' }, summary.visitorRows);
      metrics.events.inc(summary.events);
      metrics.lastSuccess.set(now() / 1_000);
    },

    recordFailure(error: unknown, seconds: number): void {
      metrics.duration.observe({ outcome: 'failure' }, seconds);
      metrics.failures.inc({ warehouse: options.warehouse, code: errorCode(error) });
    },
  };
  return metrics;
}

export type FlusherMetrics = ReturnType<typeof createFlusherMetrics>;

/** The stable `code` of an error (WarehouseError, Node system errors), else `UNKNOWN`. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'UNKNOWN';
}

/** Serves `GET /metrics` (Prometheus text) on `port` (0: any free port); resolves once listening. */
export async function startMetricsServer(registry: Registry, port: number, host: string) {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('metrics unavailable\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
