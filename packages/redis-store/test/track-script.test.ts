/**
 * The track script's contract beyond counting: the session cap, the refusal of a moved
 * generation before any write, and a repeated call (same call id) writing nothing twice.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AnalyticsKeys, AnalyticsStore, minuteId, minuteOf, pageDigest, type EventWrite } from '../src/index.js';
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
  it("names a page's keys by the page's base64url SHA-1, as earlier versions did (keys outlive an upgrade)", () => {
    expect(pageDigest('/pricing')).toBe('od5SSQJNoxYbbQlOXS7r5jWDWzI');
  });

  it("keeps a sketch of each custom event's visitors across its pages and buckets, and per combination; none for page views or a name past the guard", async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const store = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 4, live: {} });
    // Two buckets in one call (visitors from the call's events), then one bucket (visitors from sessions).
    await store.track([
      event({ event: 'signup', visitorId: 'u:1', path: '/a' }),
      event({ event: 'signup', visitorId: 'u:2', path: '/b' }),
      event({ event: 'signup', visitorId: 'u:2', path: '/a' }),
      event({ event: 'download', visitorId: 'u:3', path: '/a' }),
      event({ visitorId: 'u:4', path: '/a', receivedAt: T0 - 60_000 }),
    ]);
    await store.track([event({ event: 'signup', visitorId: 'u:5', path: '/c' }), event({ event: 'late', visitorId: 'u:6' })]);
    const sketches = async (minute: number) => {
      const claim = (await store.claim({ site: 'example.com', minute }))!;
      const batch = await store.readClaim(claim);
      await store.deleteClaim(claim, batch);
      return Object.fromEntries(batch.visitors.map((v) => [`${v.dimension} ${v.value}`, v.visitors]));
    };
    // The minute's event names: visit, engaged_visit (u:2's second hit), signup, download, then
    // 'late', past the guard of 4: it is "(other)", which has no sketch (and its page, the fifth
    // page field, goes to the "(other)" page sketch). A custom event's combination sketch is
    // named by the event and the combination.
    const combination = (page: string) => [page, '(direct)', 'desktop', '', '', '', '', '', ''].join('\x1f');
    expect(await sketches(minuteOf(T0))).toEqual({
      'total ': 5,
      'page /a': 3,
      'page /b': 1,
      'page /c': 1,
      'page (other)': 1,
      'event signup': 3,
      'event download': 1,
      [`event_combination signup\x1f${combination('/a')}`]: 2,
      [`event_combination signup\x1f${combination('/b')}`]: 1,
      [`event_combination signup\x1f${combination('/c')}`]: 1,
      [`event_combination download\x1f${combination('/a')}`]: 1,
    });
    expect(await sketches(minuteOf(T0) - 60_000)).toEqual({ 'total ': 1, [`combination ${combination('/a')}`]: 1 });
    expect((await keysOf(`{${prefix}:*`)).filter((k) => k.includes(':ue:') || k.includes(':uc:'))).toEqual([]);
  });

  it("loads no custom event's combination sketch longer, with the event name, than a combination may be, and deletes it", async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const store = new AnalyticsStore(redis, { prefix, live: {} });
    // '/' + 2,019 'x' + 8 separators + '(direct)' + 'desktop' = 2,043 characters: itself, not
    // (other); with 'signup' and a separator it is 2,050.
    const path = `/${'x'.repeat(2_019)}`;
    await store.track([event({ event: 'signup', path, visitorId: 'u:1' }), event({ event: 'signup', path: '/short', visitorId: 'u:2' })]);
    const claim = (await store.claim({ site: 'example.com', minute: minuteOf(T0) }))!;
    const batch = await store.readClaim(claim);
    const combinations = batch.counters.filter((c) => c.dimension === 'combination').map((c) => c.value.length);
    expect(combinations.sort((x, y) => x - y)).toEqual([29, 2_043]);
    const sketched = batch.visitors.filter((v) => v.dimension === 'event_combination').map((v) => v.value.split('\x1f')[1]);
    expect(sketched).toEqual(['/short']);
    await store.deleteClaim(claim, batch);
    expect((await keysOf(`{${prefix}:*`)).filter((k) => k.includes(':uc:'))).toEqual([]);
  });

  it("keeps a sketch of each page views' combination; past the guard, or overlong, the visitors go to the page's sketch", async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const store = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 3, live: {} });
    const at = (country: string, visitorId: string) => event({ country, visitorId });
    // C1 twice by u:1 and once by u:2; C2, C3 take the guard's other places; C4, C5 are past it.
    await store.track([at('C1', 'u:1'), at('C1', 'u:2'), at('C1', 'u:1'), at('C2', 'u:3'), at('C3', 'u:4'), at('C4', 'u:5'), at('C5', 'u:6')]);
    // The hash is full: known combinations still add their visitors, new ones none.
    // Two overlong combinations of two pages: each page gets its own visitor back.
    await store.track([
      at('C2', 'u:7'),
      at('C3', 'u:3'),
      at('C6', 'u:8'),
      event({ path: `/${'x'.repeat(2_100)}`, visitorId: 'u:9' }),
      event({ path: `/${'y'.repeat(2_100)}`, visitorId: 'u:10' }),
    ]);
    const claim = (await store.claim({ site: 'example.com', minute: minuteOf(T0) }))!;
    const batch = await store.readClaim(claim);
    const combination = (country: string) => ['/', '(direct)', 'desktop', country, '', '', '', '', ''].join('\x1f');
    const sketches = Object.fromEntries(batch.visitors.filter((v) => v.dimension === 'combination').map((v) => [v.value, v.visitors]));
    expect(sketches).toEqual({ [combination('C1')]: 2, [combination('C2')]: 2, [combination('C3')]: 2 });
    // u:5, u:6, u:8 (past the guard), and u:9 and u:10 on their overlong combinations' pages.
    const pages = Object.fromEntries(batch.visitors.filter((v) => v.dimension === 'page').map((v) => [v.value.slice(0, 8), v.visitors]));
    expect(pages).toEqual({ '/': 3, [`/${'x'.repeat(7)}`]: 1, [`/${'y'.repeat(7)}`]: 1 });
    const counts = Object.fromEntries(batch.counters.filter((c) => c.dimension === 'combination').map((c) => [c.value, Number(c.count)]));
    expect(counts).toEqual({ [combination('C1')]: 3, [combination('C2')]: 2, [combination('C3')]: 2, '(other)': 5 });
    await store.deleteClaim(claim, batch);
    expect((await keysOf(`{${prefix}:*`)).filter((k) => k.includes(':uc:'))).toEqual([]);
  });

  it("sends the visitors of a page past the guard to the \"(other)\" page's sketch", async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const store = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 2, live: {} });
    await store.track([event({ path: '/a', visitorId: 'u:1' }), event({ path: '/b', visitorId: 'u:2' }), event({ path: '/c', visitorId: 'u:3' }), event({ path: '/c', visitorId: 'u:4' })]);
    const claim = (await store.claim({ site: 'example.com', minute: minuteOf(T0) }))!;
    const batch = await store.readClaim(claim);
    const sketches = Object.fromEntries(batch.visitors.map((v) => [`${v.dimension} ${v.value.split('\x1f')[0]}`, v.visitors]));
    expect(sketches).toEqual({ 'total ': 4, 'combination /a': 1, 'combination /b': 1, 'page (other)': 2 });
    await store.deleteClaim(claim, batch);
    expect((await keysOf(`{${prefix}:*`)).filter((k) => /:u[pc]:/.test(k))).toEqual([]);
  });

  it('creates at most SESSION_CAP sessions per window, estimates the visits of the rest, and says how many it capped', async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    let capped = 0;
    const store = new AnalyticsStore(redis, {
      prefix,
      live: { sessionIdleMinutes: 30, sessionCap: 5 },
      writes: { onSessionsCapped: (_site, n) => (capped += n) },
    });
    const sessions = new AnalyticsKeys(prefix).live('example.com').sessions(Math.floor(T0 / (30 * 60_000)));
    await store.track(Array.from({ length: 20 }, (_, i) => event({ visitorId: `u:${i}`, path: `/p${i}` })));
    expect(await redis.hlen(sessions)).toBe(5);
    expect(capped).toBe(15);
    // A capped visitor's second hit is not an engaged visit, and creates no session either.
    await store.track([event({ visitorId: 'u:19', path: '/again' })]);
    expect(await redis.hlen(sessions)).toBe(5);
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
      combinationDigest: (value) => value,
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
      combinationDigest: (value) => value,
      callId: 'one-call',
      token: 'token',
    });
    expect(await callScript(redis, 'trackSite', call.keys, call.args)).toEqual([1, 0, 0]);
    expect(await callScript(redis, 'trackSite', call.keys, call.args)).toEqual([2]);
    const store = new AnalyticsStore(redis, { prefix });
    expect(await store.bucketBacklog({ site: 'example.com', minute: minuteOf(T0) })).toEqual({ generations: 1, events: 2 });
  });

  it('ends a visit after the idle time without a hit, and finds a visit across session windows', async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const store = new AnalyticsStore(redis, { prefix, live: { sessionIdleMinutes: 30 } });
    const windowStart = Math.floor(T0 / (30 * 60_000)) * 30 * 60_000;
    const at = (ms: number) => event({ visitorId: 'u:w', receivedAt: ms });
    // Visit counts loaded by claiming these minutes, by the minute they load into.
    const visits = async (...minutes: number[]) => {
      const rows: string[] = [];
      for (const minute of minutes) {
        const claim = await store.claim({ site: 'example.com', minute });
        if (!claim) continue;
        const batch = await store.readClaim(claim);
        for (const [at, counters] of [[minute, batch.counters], ...batch.earlier.map((e) => [e.minute.getTime(), e.counters] as const)] as const) {
          for (const c of counters) if (c.dimension === 'total' && (c.event === 'visit' || c.event === 'engaged_visit')) rows.push(`+${(at - windowStart) / 60_000} ${c.event} ${c.count}`);
        }
      }
      return rows.sort();
    };
    // First hit a minute before a window ends; the second, two minutes later, is in the next window.
    await store.track([at(windowStart + 29 * 60_000)]);
    await store.track([at(windowStart + 31 * 60_000)]);
    // 29 minutes 59 s later the visit goes on; 30 minutes after that hit a new one starts.
    await store.track([at(windowStart + 60 * 60_000 + 59_000)]);
    await store.track([at(windowStart + 90 * 60_000 + 59_000)]);
    expect(await visits(...[29, 31, 60, 90].map((m) => windowStart + m * 60_000))).toEqual(['+29 engaged_visit 1', '+29 visit 1', '+90 visit 1']);
  });

  it('continues a visit the earlier version kept in a session key, for the idle time after the upgrade', async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const keys = new AnalyticsKeys(prefix);
    const live = keys.live('example.com');
    const window = Math.floor(minuteOf(T0) / (30 * 60_000));
    const earlierMinute = minuteOf(T0) - 3 * 60_000;
    // What the earlier version left: an engaged visit, a single-hit visit, and its sessions count.
    await redis.set(live.earlierSession('u:engaged'), 'E', 'EX', 1_800);
    await redis.set(live.earlierSession('u:once'), `1\x1f${minuteId(earlierMinute)}\x1f/landing`, 'EX', 1_800);
    await redis.set(live.sessionsCreated(window), '2');
    const store = new AnalyticsStore(redis, { prefix, live: { sessionIdleMinutes: 30 } });
    await store.track([event({ visitorId: 'u:engaged' }), event({ visitorId: 'u:once' }), event({ visitorId: 'u:new' })]);
    const claim = (await store.claim({ site: 'example.com', minute: minuteOf(T0) }))!;
    const batch = await store.readClaim(claim);
    const visitRows = (rows: readonly { event: string; dimension: string; value: string; count: number | bigint | string }[]) =>
      rows.filter((c) => c.event === 'visit' || c.event === 'engaged_visit').map((c) => `${c.event} ${c.dimension} ${c.value} ${c.count}`).sort();
    expect(visitRows(batch.counters)).toEqual(['visit entry_page / 1', 'visit total  1']);
    expect(batch.earlier.map((e) => [minuteId(e.minute.getTime()), visitRows(e.counters)])).toEqual([
      [minuteId(earlierMinute), ['engaged_visit entry_page /landing 1', 'engaged_visit total  1']],
    ]);
    expect(await redis.get(live.sessionsMovedAt)).toBe(String(T0 / 1_000));
    expect(await redis.ttl(live.sessionsMovedAt)).toBeGreaterThan(1_800);
  });

  it('does not look for earlier-version sessions on a site that had none', async () => {
    prefix = `t${randomBytes(5).toString('hex')}`;
    const store = new AnalyticsStore(redis, { prefix, live: { sessionIdleMinutes: 30 } });
    const live = new AnalyticsKeys(prefix).live('example.com');
    await store.track([event({ visitorId: 'u:1' })]);
    expect(await redis.get(live.sessionsMovedAt)).toBe('0');
    // A key of the earlier version that appears later is not read: the visitor starts a visit.
    await redis.set(live.earlierSession('u:2'), 'E', 'EX', 1_800);
    await store.track([event({ visitorId: 'u:2' })]);
    expect(await visitCounts(store)).toEqual({ 'total ': 2, 'entry_page /': 2 });
  });
});
