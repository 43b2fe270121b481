import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AnalyticsKeys, AnalyticsStore, minuteId, minuteOf, pageDigest, type EventWrite } from '../src/index.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
let prefix: string;
let store: AnalyticsStore;
const T0 = Date.UTC(2026, 0, 5, 12, 30, 10);

function event(overrides: Partial<EventWrite> = {}): EventWrite {
  return {
    site: 'example.com',
    event: 'pageview',
    path: '/',
    referrer: '(direct)',
    device: 'desktop',
    visitorId: 'u:1',
    receivedAt: T0,
    ...overrides,
  };
}

beforeEach(() => {
  prefix = `t${randomBytes(5).toString('hex')}`;
  store = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 5 });
});

afterAll(async () => {
  redis.disconnect();
});

async function cleanup(): Promise<void> {
  for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

describe('AnalyticsStore', () => {
  it('counts, claims, reads and deletes a bucket', async () => {
    await store.track([
      event({ utmSource: 'news', path: '/a', country: 'DE', region: 'Berlin', city: 'Berlin', browser: 'Firefox 128', os: 'Linux' }),
      event({ visitorId: 'u:2', path: '/a', referrer: 'news.ycombinator.com', device: 'mobile', country: 'US', browser: 'Mobile Safari 17', os: 'iOS' }),
      event({ event: 'signup', visitorId: 'u:2', path: '/b', country: 'US', browser: 'Mobile Safari 17', os: 'iOS' }),
    ]);
    const bucket = { site: 'example.com', minute: minuteOf(T0) };
    expect(await store.pendingBuckets(T0 + 60_000)).toEqual([bucket]);
    expect(await store.pendingBuckets(minuteOf(T0))).toEqual([]);
    expect(await store.bucketBacklog(bucket)).toEqual({ generations: 1, events: 3 });

    const claim = await store.claim(bucket);
    expect(claim?.generation).toBe(0);
    expect(claim?.batchId).toMatch(/^example\.com\/2026-01-05T12:30Z\/0-[0-9a-f]{12}$/);
    // A late event after the claim lands in the next generation.
    await store.track([event({ path: '/late' })]);
    expect(await store.claim(bucket)).toMatchObject({ generation: 1 });
    expect(await store.claim(bucket)).toBeNull();

    const batch = await store.readClaim(claim!);
    expect(batch.events).toBe(3);
    const counters = batch.counters.map((c) => `${c.event}|${c.dimension}|${c.value}|${c.count}`).sort();
    expect(counters).toEqual(
      [
        'pageview|total||2',
        'signup|total||1',
        'pageview|page|/a|2',
        'signup|page|/b|1',
        'pageview|referrer|(direct)|1',
        'pageview|referrer|news.ycombinator.com|1',
        'signup|referrer|(direct)|1',
        'pageview|device|desktop|1',
        'pageview|device|mobile|1',
        'signup|device|desktop|1',
        'pageview|utm_source|news|1',
        'pageview|country|DE|1',
        'pageview|country|US|1',
        'signup|country|US|1',
        'pageview|region|Berlin|1',
        'pageview|city|Berlin|1',
        'pageview|browser|Firefox 128|1',
        'pageview|browser|Mobile Safari 17|1',
        'signup|browser|Mobile Safari 17|1',
        'pageview|os|Linux|1',
        'pageview|os|iOS|1',
        'signup|os|iOS|1',
        // page, referrer, device, country, browser, os, utm_source, utm_medium, utm_campaign
        `pageview|combination|${['/a', '(direct)', 'desktop', 'DE', 'Firefox 128', 'Linux', 'news', '', ''].join('\x1f')}|1`,
        `pageview|combination|${['/a', 'news.ycombinator.com', 'mobile', 'US', 'Mobile Safari 17', 'iOS', '', '', ''].join('\x1f')}|1`,
        `signup|combination|${['/b', '(direct)', 'desktop', 'US', 'Mobile Safari 17', 'iOS', '', '', ''].join('\x1f')}|1`,
      ].sort(),
    );
    const visitors = batch.visitors.map((v) => `${v.dimension}|${v.value}|${v.visitors}`).sort();
    // A custom event's visitors have a sketch of their own (for goals), and so have its pages
    // (/b: the signup sent from it) and its combinations (named by the event, for goals per
    // source and page); page views' visitors are in their combinations' sketches (the visitors
    // under filters; the warehouse merges a page's from them), not the page's.
    expect(visitors).toEqual(
      [
        `combination|${['/a', '(direct)', 'desktop', 'DE', 'Firefox 128', 'Linux', 'news', '', ''].join('\x1f')}|1`,
        `combination|${['/a', 'news.ycombinator.com', 'mobile', 'US', 'Mobile Safari 17', 'iOS', '', '', ''].join('\x1f')}|1`,
        `event_combination|${['signup', '/b', '(direct)', 'desktop', 'US', 'Mobile Safari 17', 'iOS', '', '', ''].join('\x1f')}|1`,
        'event|signup|1',
        'page|/b|1',
        'total||2',
      ].sort(),
    );
    expect(Buffer.from(batch.visitors[0]!.sketch).subarray(0, 4).toString()).toBe('HYLL');

    expect((await store.openClaims(bucket)).map((c) => c.generation)).toEqual([0, 1]);
    await store.deleteClaim(claim!, batch);
    await store.deleteClaim(claim!, batch); // repeat is harmless
    expect((await store.openClaims(bucket)).map((c) => c.generation)).toEqual([1]);
    expect(await store.bucketBacklog(bucket)).toEqual({ generations: 1, events: 1 });
    expect(await store.retireBucket(bucket)).toBe(false);
    expect(await store.pendingBuckets(T0 + 60_000)).toEqual([bucket]);

    const late = (await store.openClaims(bucket))[0]!;
    await store.deleteClaim(late, await store.readClaim(late));
    expect(await store.retireBucket(bucket)).toBe(true);
    expect(await store.pendingBuckets(T0 + 60_000)).toEqual([]);
    // What stays: the call markers of the two track calls, which expire.
    const left = await redis.keys(`{${prefix}:*`);
    expect(left.filter((key) => !key.includes(':live:call:'))).toEqual([]);
    expect(left).toHaveLength(2);
    for (const key of left) expect(await redis.ttl(key)).toBeGreaterThan(0);
    await cleanup();
  });

  it('flushes a bucket written before site hash tags, from the legacy pending index', async () => {
    // What a tracker of the previous version left: per-minute hash tags and the global index.
    const minute = minuteOf(T0) - 60_000;
    const tag = `{${prefix}:example.com:${minuteId(minute)}}`;
    await redis
      .multi()
      .zadd(`${prefix}:pending`, minute, `${minuteId(minute)}|example.com`)
      .incrby(`${tag}:n:0`, 3)
      .hincrby(`${tag}:c:total:0`, 'pageview\x1f', 3)
      .hincrby(`${tag}:c:page:0`, 'pageview\x1f/old', 3)
      .pfadd(`${tag}:u:0`, 'u:1', 'u:2')
      .pfadd(`${tag}:up:${pageDigest('/old')}:0`, 'u:1', 'u:2')
      .exec();
    await store.track([event()]);

    const legacy = { site: 'example.com', minute, legacyKeys: true as const };
    expect(await store.pendingBuckets(T0 + 60_000)).toEqual([legacy, { site: 'example.com', minute: minuteOf(T0) }]);
    expect(await store.bucketBacklog(legacy)).toEqual({ generations: 1, events: 3 });
    const claim = (await store.claim(legacy))!;
    const batch = await store.readClaim(claim);
    expect(batch.counters.map((c) => `${c.event}|${c.dimension}|${c.value}|${c.count}`).sort()).toEqual([
      'pageview|page|/old|3',
      'pageview|total||3',
    ]);
    expect(batch.visitors.map((v) => `${v.dimension}|${v.value}|${v.visitors}`).sort()).toEqual(['page|/old|2', 'total||2']);
    await store.deleteClaim(claim, batch);
    expect(await store.retireBucket(legacy)).toBe(true);
    expect(await store.pendingBuckets(T0 + 60_000)).toEqual([{ site: 'example.com', minute: minuteOf(T0) }]);
    expect(await redis.keys(`${tag}*`)).toEqual([]);
    expect(await redis.exists(`${prefix}:pending`)).toBe(0);
    await cleanup();
  });

  it('counts values past the cardinality guard as (other)', async () => {
    const events = Array.from({ length: 20 }, (_, i) => event({ path: `/p${i}`, visitorId: `u:${i}` }));
    await store.track(events);
    const bucket = { site: 'example.com', minute: minuteOf(T0) };
    const batch = await store.readClaim((await store.claim(bucket))!);
    const pages = batch.counters.filter((c) => c.dimension === 'page');
    expect(pages).toHaveLength(6);
    expect(pages.find((p) => p.value === '(other)')?.count).toBe(15n);
    expect(pages.reduce((s, p) => s + p.count, 0n)).toBe(20n);
    // Each event's combination is its own value too: the same guard, the same (other).
    const combinations = batch.counters.filter((c) => c.dimension === 'combination');
    expect(combinations).toHaveLength(6);
    expect(combinations.find((c) => c.value === '(other)')?.count).toBe(15n);
    expect(combinations.filter((c) => c.value !== '(other)').every((c) => c.value.startsWith('/p') && c.value.split('\x1f').length === 9)).toBe(true);
    const other = batch.visitors.find((v) => v.value === '(other)');
    expect(other?.visitors).toBe(15);
    await cleanup();
  });

  it('counts a combination longer than 2,048 characters as (other), and one of 2,048 as itself', async () => {
    // page, referrer, device, country, browser, os (6 parts here, 8 separators): 2,048 in all.
    const fixed = ['(direct)', 'desktop', 'DE', 'Firefox 128', 'Linux'].join('').length + 8;
    const fits = event({ path: `/${'a'.repeat(2_048 - fixed - 1)}`, country: 'DE', browser: 'Firefox 128', os: 'Linux' });
    const long = event({ ...fits, path: `${fits.path}b`, visitorId: 'u:2' });
    await store.track([fits, long]);
    const batch = await store.readClaim((await store.claim({ site: 'example.com', minute: minuteOf(T0) }))!);
    const combinations = batch.counters.filter((c) => c.dimension === 'combination').map((c) => [c.value.length, Number(c.count)]);
    expect(combinations.sort()).toEqual([[2_048, 1], ['(other)'.length, 1]].sort());
    await cleanup();
  });

  it('counts a call into a hash already at the guard exactly: known values as themselves, new ones as (other)', async () => {
    const country = (c: string, i: number) => event({ path: '/', country: c, visitorId: `u:${i}` });
    await store.track(['DE', 'FR', 'US', 'JP', 'BR'].map(country)); // the guard's 5
    // One call of 4 known countries (DE twice) and 6 new ones; every page is '/', so the
    // combinations differ by country as well.
    await store.track([...['DE', 'DE', 'FR', 'US', 'JP'], ...['AU', 'CA', 'MX', 'IN', 'CN', 'ZA']].map(country));
    await store.track(['CN', 'BR'].map(country)); // the next call: CN is still new, BR known
    const bucket = { site: 'example.com', minute: minuteOf(T0) };
    const batch = await store.readClaim((await store.claim(bucket))!);
    const counts = (dimension: string) =>
      Object.fromEntries(batch.counters.filter((c) => c.dimension === dimension).map((c) => [c.value === '(other)' ? c.value : c.value.split('\x1f')[dimension === 'combination' ? 3 : 0], Number(c.count)]));
    const expected = { DE: 3, FR: 2, US: 2, JP: 2, BR: 2, '(other)': 7 };
    expect(counts('country')).toEqual(expected);
    expect(counts('combination')).toEqual(expected);
    expect(batch.counters.filter((c) => c.dimension === 'total').map((c) => Number(c.count))).toEqual([18]);
    await cleanup();
  });

  it('counts a visit on its first hit and makes it engaged on its second, in the minute the visit started', async () => {
    const live = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 100, live: { sessionIdleMinutes: 30 } });
    const sessions = new AnalyticsKeys(prefix).live('example.com');
    const earlier = minuteOf(T0) - 5 * 60_000;
    const read = async (minute: number) => {
      const claim = (await live.claim({ site: 'example.com', minute }))!;
      const batch = await live.readClaim(claim);
      await live.deleteClaim(claim, batch);
      const rows = [
        ...batch.counters.map((c) => ({ ...c, minute })),
        ...batch.earlier.flatMap((e) => e.counters.map((c) => ({ ...c, minute: e.minute.getTime() }))),
      ];
      return rows
        .filter((c) => c.event === 'visit' || c.event === 'engaged_visit')
        .map((c) => `${c.minute === minute ? '' : `${minuteId(c.minute)} `}${c.event} ${c.dimension} ${c.value} ${c.count}`)
        .sort();
    };
    // This visitor's visit started 5 minutes ago, and that minute has been claimed since.
    await live.track([event({ visitorId: 'u:old', path: '/landing', receivedAt: earlier + 1_000 })]);
    expect(await read(earlier)).toEqual(['visit entry_page /landing 1', 'visit total  1']);
    expect(await live.retireBucket({ site: 'example.com', minute: earlier })).toBe(true);
    expect(await live.pendingBuckets(T0 + 60_000)).toEqual([]);

    await live.track([event({ visitorId: 'u:new', path: '/in' }), event({ visitorId: 'u:old', path: '/second' }), event({ visitorId: 'u:once', path: '/only' })]);
    await live.track([event({ visitorId: 'u:new', path: '/next' }), event({ visitorId: 'u:new', path: '/third' }), event({ visitorId: 'u:old' })]);
    // The engaged visit of the earlier minute is written with this minute's bucket (the only
    // keys the call declares) and loads into the earlier minute.
    expect(await live.pendingBuckets(T0 + 60_000)).toEqual([{ site: 'example.com', minute: minuteOf(T0) }]);
    expect(await read(minuteOf(T0))).toEqual([
      `${minuteId(earlier)} engaged_visit entry_page /landing 1`,
      `${minuteId(earlier)} engaged_visit total  1`,
      'engaged_visit entry_page /in 1',
      'engaged_visit total  1',
      'visit entry_page /in 1',
      'visit entry_page /only 1',
      'visit total  2',
    ]);
    // A session starts with its last hit's time; past its second hit it keeps only that, with a
    // single hit it keeps what its second hit needs: the visit's first minute and entry page.
    const window = sessions.sessions(Math.floor(T0 / (30 * 60_000)));
    const lastHit = String(T0 / 1_000);
    expect(await redis.hmget(window, 'u:old', 'u:new', 'u:once')).toEqual([`${lastHit}E`, `${lastHit}E`, `${lastHit}${minuteId(minuteOf(T0))}/only`]);
    expect(await redis.ttl(window)).toBeGreaterThan(3_600);

    // The single-hit visit's second hit, a minute later, makes it engaged in its first minute.
    await live.track([event({ visitorId: 'u:once', path: '/again', receivedAt: T0 + 60_000 })]);
    expect(await read(minuteOf(T0) + 60_000)).toEqual([
      `${minuteId(minuteOf(T0))} engaged_visit entry_page /only 1`,
      `${minuteId(minuteOf(T0))} engaged_visit total  1`,
    ]);
    await cleanup();
  });

  it('turns a counter hash into a hash table past 128 fields and keeps the guard and the flush exact', async () => {
    const wide = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 200 });
    const pages = Array.from({ length: 300 }, (_, i) => event({ path: `/p${i}`, referrer: `r${i % 130}.example` }));
    await wide.track(pages.slice(0, 127));
    const pageHash = new AnalyticsKeys(prefix).bucket({ site: 'example.com', minute: minuteOf(T0) }).counter('page', 0);
    expect(await redis.object('ENCODING', pageHash)).toBe('listpack');
    await wide.track(pages.slice(127));
    expect(await redis.object('ENCODING', pageHash)).toBe('hashtable');
    // 200 pages plus "(other)", plus the marker.
    expect(await redis.hlen(pageHash)).toBe(202);
    const batch = await wide.readClaim((await wide.claim({ site: 'example.com', minute: minuteOf(T0) }))!);
    const counted = (dimension: string) => batch.counters.filter((c) => c.dimension === dimension);
    expect(counted('page')).toHaveLength(201);
    expect(counted('page').find((c) => c.value === '(other)')?.count).toBe(100n);
    expect(counted('referrer')).toHaveLength(130);
    for (const dimension of ['page', 'referrer', 'total']) {
      expect(counted(dimension).reduce((sum, c) => sum + c.count, 0n)).toBe(300n);
    }
    expect(batch.counters.some((c) => c.event === '' || c.value.includes('hashtable'))).toBe(false);
    await cleanup();
  });

  it('a second lock holder waits; only the owner releases', async () => {
    const bucket = { site: 'example.com', minute: minuteOf(T0) };
    const token = await store.lock(bucket, 5_000);
    expect(token).toBeTruthy();
    expect(await store.lock(bucket, 5_000)).toBeNull();
    await store.unlock(bucket, 'not-the-owner');
    expect(await store.lock(bucket, 5_000)).toBeNull();
    expect(await store.extendLock(bucket, token!, 5_000)).toBe(true);
    await store.unlock(bucket, token!);
    expect(await store.lock(bucket, 5_000)).toBeTruthy();
    await cleanup();
  });

  it('keeps one salt per day', async () => {
    const a = await store.daySalt('2026-01-05');
    expect(await store.daySalt('2026-01-05')).toBe(a);
    expect(await store.daySalt('2026-01-06')).not.toBe(a);
    expect(await redis.ttl(`${prefix}:salt:2026-01-05`)).toBeGreaterThan(47 * 3600);
    await cleanup();
  });
});
