import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker, PIXEL, type Tracker } from '../src/index.js';
import { DESKTOP, REDIS_URL, deleteKeysOf, pageVisitors, startTracker } from './support.js';
const logger = pino({ level: 'silent' });

async function allKeysAndValues(redis: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
    for (const key of await redis.keys(pattern)) {
      out.push(key);
      const type = await redis.type(key);
      if (type === 'string') out.push((await redis.getBuffer(key))!.toString('latin1'));
      if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
    }
  }
  return out.join('\n');
}

describe('tracker HTTP', () => {
  const prefix = `t${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true });
  let tracker: Tracker;
  let base: string;
  const minuteBucket = () => tracker.store.keys.bucket({ site: 'example.com', minute: Date.UTC(2026, 5, 1, 12, 0) });

  beforeAll(async () => {
    tracker = createTracker({ redis, sites: ['example.com'], prefix, logger, clock: () => Date.UTC(2026, 5, 1, 12, 0, 5) });
    base = `http://127.0.0.1:${await tracker.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await tracker.close();
    const keys = [...(await redis.keys(`${prefix}:*`)), ...(await redis.keys(`{${prefix}:*`))];
    if (keys.length) await redis.unlink(...keys);
    redis.disconnect();
  });

  it('answers the pixel with the 43-byte GIF and no-cache headers', async () => {
    const res = await fetch(`${base}/p.gif?site=example.com&path=/a`, { headers: { 'user-agent': DESKTOP } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PIXEL);
    expect(PIXEL).toHaveLength(43);
    expect(Object.fromEntries(['content-type', 'cache-control', 'pragma', 'expires', 'access-control-allow-origin'].map((h) => [h, res.headers.get(h)]))).toEqual({
      'content-type': 'image/gif',
      'cache-control': 'no-store, no-cache, must-revalidate, private',
      pragma: 'no-cache',
      expires: '0',
      'access-control-allow-origin': '*',
    });
  });

  it('takes the path from the Referer header when the pixel has none', async () => {
    const res = await fetch(`${base}/p.gif?site=example.com`, { headers: { 'user-agent': DESKTOP, referer: 'https://example.com/from-referer?x=1' } });
    expect(res.status).toBe(200);
    const pages = await redis.hgetall(minuteBucket().counter('page', 0));
    expect(pages['pageview\x1f/from-referer']).toBe('1');
  });

  it('answers CORS preflight on both endpoints', async () => {
    for (const path of ['/p.gif', '/e']) {
      const res = await fetch(`${base}${path}`, { method: 'OPTIONS' });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    }
  });

  it('accepts a beacon batch as text/plain and reports per-event errors', async () => {
    const res = await fetch(`${base}/e`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': DESKTOP },
      body: JSON.stringify([{ site: 'example.com', path: '/b', event: 'signup' }, { site: 'nope.com', path: '/' }]),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1, rejected: 1, ignored: 0, errors: [{ index: 1, reason: 'unknown_site' }] });
  });

  it('does not count bots as page views but counts them in /metrics', async () => {
    const res = await fetch(`${base}/p.gif?site=example.com&path=/bot`, { headers: { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-analytics-ignored')).toBe('bot');
    const pages = await redis.hgetall(minuteBucket().counter('page', 0));
    expect(pages['pageview\x1f/bot']).toBeUndefined();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^rta_bot_hits_total 1$/m);
    expect(metrics).toMatch(/^rta_events_accepted_total 3$/m);
    expect(metrics).toMatch(/rta_events_rejected_total\{reason="unknown_site"\} 1/);
    expect(metrics).toMatch(/rta_redis_write_seconds_count 4/); // the bot's hit is counted for the live view
  });

  it('stores no raw IP address, and ignores X-Forwarded-For without TRUST_PROXY', async () => {
    for (const ip of ['203.0.113.77', '198.51.100.9']) {
      const res = await fetch(`${base}/p.gif?site=example.com&path=/privacy`, { headers: { 'user-agent': DESKTOP, 'x-forwarded-for': ip } });
      expect(res.status).toBe(200);
    }
    const dump = await allKeysAndValues(redis, prefix);
    expect(dump).not.toContain('203.0.113.77');
    expect(dump).not.toContain('127.0.0.1');
    // Both hits came from the same socket address and user agent: one visitor for the page.
    expect(await pageVisitors(redis, minuteBucket(), '/privacy')).toBe(1);
  });

  it('reports health and unknown routes', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('tracker with Redis down', () => {
  it('does not start listening when Redis does not give the visitor salt', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const tracker = createTracker({ redis, sites: ['example.com'], prefix: 'down', logger });
    try {
      await expect(tracker.listen(0, '127.0.0.1')).rejects.toThrow(/^REDIS_URL: cannot read the visitor salt from Redis .*; not listening$/);
      expect(tracker.server.listening).toBe(false);
    } finally {
      await tracker.close();
      redis.disconnect();
    }
  });

  it('answers 503 when Redis goes away (the pixel still gets its GIF) and healthz says so', async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    await redis.connect();
    const running = await startTracker({ redis });
    const cleanup = new Redis(REDIS_URL);
    try {
      redis.disconnect();
      const pixel = await fetch(`${running.base}/p.gif?site=example.com&path=/`, { headers: { 'user-agent': DESKTOP } });
      expect(pixel.status).toBe(503);
      expect(pixel.headers.get('content-type')).toBe('image/gif');
      expect(pixel.headers.get('retry-after')).toBe('1');
      const beacon = await fetch(`${running.base}/e`, { method: 'POST', body: JSON.stringify({ site: 'example.com', path: '/' }), headers: { 'user-agent': DESKTOP } });
      expect(beacon.status).toBe(503);
      expect(await beacon.json()).toEqual({ error: 'storage_unavailable' });
      expect((await fetch(`${running.base}/healthz`)).status).toBe(503);
    } finally {
      await running.close();
      await deleteKeysOf(cleanup, running.prefix);
      cleanup.disconnect();
    }
  });
});
