/**
 * Live API latency: GET /api/live p99 with 10,000 distinct pages in the current minute (the
 * ZUNIONSTORE of the top pages is the expensive part), next to the same API on a quiet site, in
 * one run, with one client (a dashboard polling) and eight hammering it (concurrent requests for
 * a site share one Redis read per second). Target: p99 under 50 ms. Run: `npx tsx test/bench/live-api.ts`.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); uses a random key prefix and deletes
 * its keys afterwards.
 */
import autocannon from 'autocannon';
import { AnalyticsStore, type EventWrite } from '@rta/redis-store';
import { deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';
import { startTestTracker } from '../support/pipeline.js';

const PAGES = Number(process.env.BENCH_PAGES ?? 10_000);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const TOKEN = 'bench-dashboard-token-0123456789';

async function main(): Promise<void> {
  const prefix = randomPrefix();
  const redis = testRedis({ autoPipelining: true });
  const tracker = await startTestTracker({ prefix, sites: ['busy.example', 'quiet.example'], now: 'real', dashboardToken: TOKEN });
  try {
    // Fill the current minute of busy.example the way the tracker does (sessions, live view).
    const store = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 1_000_000, live: { sessionIdleMinutes: 30 } });
    const now = Date.now();
    const events: EventWrite[] = Array.from({ length: PAGES * 2 }, (_, i) => ({
      site: 'busy.example',
      event: 'pageview',
      path: `/page/${i % PAGES}`,
      referrer: `ref-${i % 500}.example`,
      device: 'desktop',
      visitorId: `u:${i % 5_000}`,
      receivedAt: now,
    }));
    for (let i = 0; i < events.length; i += 1_000) await store.track(events.slice(i, i + 1_000));

    console.log(`# GET /api/live: ${PAGES.toLocaleString('en')} distinct pages in the current minute vs a quiet site, 1 and 8 connections, ${DURATION_S} s each`);
    for (const [site, connections] of [['quiet.example', 1], ['busy.example', 1], ['quiet.example', 8], ['busy.example', 8]] as const) {
      const result = await autocannon({
        url: `${tracker.base}/api/live?site=${site}`,
        connections,
        duration: DURATION_S,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      console.log(
        `${site.padEnd(14)} ${connections} conn ${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  max ${result.latency.max} ms  (non-2xx ${result.non2xx})`,
      );
    }
    // The same read without the tracker's one-second sharing: every call runs the Lua read.
    const cold: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await store.readLive('busy.example', Date.now());
      cold.push(performance.now() - started);
    }
    cold.sort((a, b) => a - b);
    const at = (q: number) => cold[Math.min(cold.length - 1, Math.floor(q * cold.length))]!.toFixed(1);
    console.log(`uncached read of busy.example (200 reads, one after another): p50 ${at(0.5)} ms  p99 ${at(0.99)} ms  max ${at(1)} ms`);
    const one = await fetch(`${tracker.base}/api/live?site=busy.example`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await one.json()) as { topPages: unknown[]; pageviewsLast30Minutes: number };
    console.log(`busy.example: ${body.pageviewsLast30Minutes} page views, top list of ${body.topPages.length}; target p99 < 50 ms`);
  } finally {
    await tracker.close();
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
