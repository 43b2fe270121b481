/**
 * `pnpm bench:memory`: Redis memory per live session, per distinct page and per distinct
 * referrer of a minute (each with the distinct combination it makes), measured as `used_memory` deltas on a redis-server of its own (nothing
 * else writes to it), for the README's memory formula.
 */
import { Redis } from 'ioredis';
import { AnalyticsStore, minuteOf, type EventWrite } from '@rta/redis-store';
import { startRedisServer } from '../support/redis-servers.js';

const N = 20_000;
const server = await startRedisServer();
const redis = new Redis(server.url);
const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const minute = minuteOf(Date.now());
const base: EventWrite = { site: 'example.com', event: 'pageview', path: '/', referrer: '(direct)', device: 'desktop', visitorId: 'u:0', receivedAt: minute + 1_000 };

async function perItem(what: string, make: (i: number) => EventWrite, live: boolean): Promise<number> {
  await redis.flushall();
  const store = new AnalyticsStore(redis, { prefix: 'rta', maxValuesPerDimension: 1_000_000, live: live ? { sessionIdleMinutes: 30 } : undefined });
  await store.track([base]); // the minute's structures exist before the measurement
  const before = await used();
  const events = Array.from({ length: N }, (_, i) => make(i + 1));
  for (let i = 0; i < events.length; i += 200) await store.track(events.slice(i, i + 200));
  // Includes the call markers (one per 200 events, expiring after two minutes): under 1 byte per item.
  const bytes = ((await used()) - before) / N;
  console.log(`${what.padEnd(58)} ${bytes.toFixed(0).padStart(5)} bytes`);
  return bytes;
}

try {
  console.log(`Redis ${/redis_version:(\S+)/.exec(await redis.info('server'))![1]}, ${N} items each, used_memory delta per item:`);
  await perItem('live session (a new visitor, counters only in this minute)', (i) => ({ ...base, visitorId: `h:${'x'.repeat(20)}${i}` }), true);
  // Each distinct page or referrer also makes a distinct combination: its counter and HyperLogLog.
  await perItem('distinct page of a minute (counters, HyperLogLog, live)', (i) => ({ ...base, path: `/articles/${i}` }), true);
  await perItem('distinct page of a minute, counters only (no live view)', (i) => ({ ...base, path: `/articles/${i}` }), false);
  await perItem('distinct referrer of a minute (counters, HyperLogLog, live)', (i) => ({ ...base, referrer: `site-${i}.example` }), true);
} finally {
  redis.disconnect();
  await server.stop();
  server.remove();
}
