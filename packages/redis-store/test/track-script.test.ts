/**
 * The track script's contract beyond counting: the session cap, the refusal of a moved
 * generation before any write, and a repeated call (same call id) writing nothing twice.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AnalyticsKeys, AnalyticsStore, minuteOf, type EventWrite } from '../src/index.js';
import { siteCall } from '../src/site-call.js';
import { scanKeys } from '../../../test/support/redis.js';
import { callScript, defineScripts } from '../src/scripts.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const T0 = Date.UTC(2026, 0, 5, 12, 30, 10);
let prefix = '';

function event(overrides: Partial<EventWrite> = {}): EventWrite {
  return { site: 'example.com', event: 'pageview', path: '/', referrer: '(direct)', device: 'desktop', visitorId: 'u:1', receivedAt: T0, ...overrides };
}

const keysOf = (pattern: string) => scanKeys(redis, pattern);

async function visitCounts(store: AnalyticsStore): Promise<Record<string, number>> {
  const claim = (await store.claim({ site: 'example.com', minute: minuteOf(T0) }))!;
  const batch = await store.readClaim(claim);
  return Object.fromEntries(batch.counters.filter((c) => c.event === 'visit').map((c) => [`${c.dimension} ${c.value}`, Number(c.count)]));
}

afterEach(async () => {
  for (const key of await keysOf(`{${prefix}:*`)) await redis.unlink(key);
});
afterAll(() => redis.disconnect());

describe('the track script', () => {
  it('creates at most SESSION_CAP sessions per window, estimates the visits of the rest, and says how many it capped', async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    let capped = 0;
    const store = new AnalyticsStore(redis, {
      prefix,
      live: { sessionIdleMinutes: 30, sessionCap: 5 },
      writes: { onSessionsCapped: (_site, n) => (capped += n) },
    });
    await store.track(Array.from({ length: 20 }, (_, i) => event({ visitorId: `u:${i}`, path: `/p${i}` })));
    expect(await keysOf(`{${prefix}:example.com}:live:s:*`)).toHaveLength(5);
    expect(capped).toBe(15);
    // A capped visitor's second hit is not an engaged visit, and creates no session either.
    await store.track([event({ visitorId: 'u:19', path: '/again' })]);
    expect(await keysOf(`{${prefix}:example.com}:live:s:*`)).toHaveLength(5);
    const visits = await visitCounts(store);
    // Five exact visits with their entry pages; fifteen estimated (HyperLogLog growth; exact at this size) under "(other)".
    expect(visits['total ']).toBe(20);
    expect(visits['entry_page (other)']).toBe(15);
    expect(Object.keys(visits).filter((k) => k.startsWith('entry_page /p'))).toHaveLength(5);
  });

  it('writes nothing when a claim moved a generation on, and answers with the current one', async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const store = new AnalyticsStore(redis, { prefix, live: {} });
    await store.track([event()]);
    await store.claim({ site: 'example.com', minute: minuteOf(T0) });
    const before = await keysOf(`{${prefix}:*`);
    const dumps = await Promise.all(before.map((k) => redis.dumpBuffer(k)));
    defineScripts(redis);
    const call = siteCall('example.com', [event({ visitorId: 'u:2' })], { maxValuesPerDimension: 100, live: { sessionIdleMinutes: 30, cap: 100, sessionCap: 100 } }, {
      keys: new AnalyticsKeys(prefix),
      generation: () => 0, // stale: the claim moved it to 1
      digest: (page) => page,
      callId: 'stale-call',
      token: 'token',
    });
    expect(await callScript(redis, 'trackSite', call.keys, call.args)).toEqual([0, 1]);
    const after = await keysOf(`{${prefix}:*`);
    expect([...after].sort()).toEqual([...before].sort());
    const now = await Promise.all(before.map((k) => redis.dumpBuffer(k)));
    expect(before.filter((_, i) => !now[i]!.equals(dumps[i]!))).toEqual([]);
    // Through the store the same events land in the new generation.
    await store.track([event({ visitorId: 'u:2' })]);
    expect(await store.bucketBacklog({ site: 'example.com', minute: minuteOf(T0) })).toEqual({ generations: 2, events: 2 });
  });

  it('applies a repeated call once (a retry after a lost reply)', async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    defineScripts(redis);
    const call = siteCall('example.com', [event(), event({ visitorId: 'u:2' })], { maxValuesPerDimension: 100 }, {
      keys: new AnalyticsKeys(prefix),
      generation: () => 0,
      digest: (page) => page,
      callId: 'one-call',
      token: 'token',
    });
    expect(await callScript(redis, 'trackSite', call.keys, call.args)).toEqual([1, 0]);
    expect(await callScript(redis, 'trackSite', call.keys, call.args)).toEqual([2]);
    const store = new AnalyticsStore(redis, { prefix });
    expect(await store.bucketBacklog({ site: 'example.com', minute: minuteOf(T0) })).toEqual({ generations: 1, events: 2 });
  });
});
