/**
 * The flusher's /metrics: every series the README lists, with exact values after a known flush
 * and a known failure, and the backlog read from Redis (a minute already loaded is not backlog).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AnalyticsStore, minuteOf, type EventWrite } from '@rta/redis-store';
import { createDuckDBWarehouse, WarehouseError } from '@rta/warehouse';
import { createFlusherMetrics, flushClosedMinutes } from '../src/index.js';
import { startMetricsServer } from '../src/metrics.js';
import { deleteKeysOf, randomPrefix, testRedis } from '../../../test/support/redis.js';
import { metricValue } from '../../../test/support/flusher-process.js';

describe('flusher metrics', () => {
  const redis = testRedis();
  const prefix = randomPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'rta-metrics-'));
  afterAll(async () => {
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports flush duration, batches, rows, events, failures by warehouse and code, backlog minutes and the oldest age', async () => {
    const store = new AnalyticsStore(redis, { prefix });
    const warehouse = createDuckDBWarehouse({ path: join(dir, 'w.duckdb') });
    const t0 = minuteOf(Date.now()) - 3_600_000;
    const now = t0 + 10 * 60_000;
    const events: EventWrite[] = Array.from({ length: 30 }, (_, i) => ({
      site: 'example.com',
      event: 'pageview',
      path: `/p/${i % 3}`,
      referrer: '(direct)',
      device: 'desktop',
      visitorId: `u:${i}`,
      receivedAt: t0 + (i % 2) * 60_000 + 1_000,
    }));
    await store.track(events);
    const metrics = createFlusherMetrics({ store, warehouse: 'duckdb', graceSeconds: 5, now: () => now });
    const server = await startMetricsServer(metrics.registry, 0, '127.0.0.1');
    const scrape = async () => (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    try {
      let text = await scrape();
      expect(metricValue(text, 'rta_flush_backlog_minutes')).toBe(2);
      expect(metricValue(text, 'rta_flush_oldest_pending_minute_age_seconds')).toBe(600);
      expect(metricValue(text, 'rta_flush_last_success_timestamp_seconds')).toBe(0);

      await warehouse.migrate();
      const summary = await flushClosedMinutes({ store, warehouse, logger: pino({ level: 'silent' }) }, { now });
      metrics.recordSuccess(summary, 0.2);
      metrics.recordFailure(new WarehouseError('WAREHOUSE_TIMEOUT', 'a DuckDB statement timed out after 2 s'), 2);
      metrics.recordFailure(new Error('no code'), 1);

      text = await scrape();
      expect(metricValue(text, 'rta_flush_backlog_minutes')).toBe(0); // loaded, though still in the pending index
      expect(metricValue(text, 'rta_flush_oldest_pending_minute_age_seconds')).toBe(0);
      expect(metricValue(text, 'rta_flush_events_total')).toBe(30);
      expect(metricValue(text, 'rta_flush_batches_total{status="loaded"}')).toBe(2);
      expect(metricValue(text, 'rta_flush_batches_total{status="already_loaded"}')).toBe(0);
      expect(metricValue(text, 'rta_flush_rows_total{table="event_counts"}')).toBe(summary.counterRows);
      expect(metricValue(text, 'rta_flush_rows_total{table="unique_visitors"}')).toBe(summary.visitorRows);
      expect(summary.counterRows).toBeGreaterThan(0);
      expect(metricValue(text, 'rta_flush_failures_total{warehouse="duckdb",code="WAREHOUSE_TIMEOUT"}')).toBe(1);
      expect(metricValue(text, 'rta_flush_failures_total{warehouse="duckdb",code="UNKNOWN"}')).toBe(1);
      expect(metricValue(text, 'rta_flush_duration_seconds_count{outcome="success"}')).toBe(1);
      expect(metricValue(text, 'rta_flush_duration_seconds_count{outcome="failure"}')).toBe(2);
      expect(metricValue(text, 'rta_flush_last_success_timestamp_seconds')).toBe(now / 1_000);
      expect(text).toContain('rta_flusher_process_cpu_seconds_total');
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
      await warehouse.close();
    }
  });
});
