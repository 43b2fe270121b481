import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@rta/config';
import { startTrackerService } from '../src/index.js';
import { DESKTOP, REDIS_URL, TOKEN, deleteKeysOf, randomPrefix, startTracker, type RunningTracker } from './support.js';

const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36';
const ORIGIN = { origin: 'https://evil.example' };

describe('dashboard responses', () => {
  let running: RunningTracker;
  beforeAll(async () => {
    running = await startTracker({ dashboardToken: TOKEN });
  });
  afterAll(() => running?.close());

  it('are never framed and carry no CORS header, even for a cross-origin request', async () => {
    const bearer = { ...ORIGIN, authorization: `Bearer ${TOKEN}` };
    const requests: Array<[string, string, RequestInit, number]> = [
      ['the page', '/dashboard', { headers: bearer }, 200],
      ['the login form', '/dashboard', { headers: ORIGIN }, 401],
      ['a login', '/dashboard/login', { method: 'POST', body: `token=${TOKEN}`, headers: { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' }, 303],
      ['the live API', '/api/live?site=example.com', { headers: bearer }, 200],
      ['the live API without a token', '/api/live?site=example.com', { headers: ORIGIN }, 401],
      ['the history API', '/api/history?site=example.com', { headers: bearer }, 503], // no warehouse here
      ['a CSV export', '/api/export?site=example.com&query=top-pages', { headers: bearer }, 503],
      ['a CSV export without a token', '/api/export?site=example.com&query=top-pages', { headers: ORIGIN }, 401],
      ['a preflight of the live API', '/api/live', { method: 'OPTIONS', headers: { ...ORIGIN, 'access-control-request-method': 'GET' } }, 404],
    ];
    for (const [name, path, init, status] of requests) {
      const res = await fetch(`${running.base}${path}`, init);
      expect(res.status, name).toBe(status);
      const cors = [...res.headers.keys()].filter((h) => h.startsWith('access-control-'));
      expect(cors, name).toEqual([]);
      if (status !== 404) expect(res.headers.get('x-frame-options'), name).toBe('DENY');
      if (res.headers.get('content-type')?.startsWith('text/html')) expect(res.headers.get('content-security-policy'), name).toContain("frame-ancestors 'none'");
      await res.arrayBuffer();
    }
    // The tracking endpoints stay open to every origin.
    for (const path of ['/p.gif?site=example.com&path=/', '/e']) {
      const res = await fetch(`${running.base}${path}`, { method: path === '/e' ? 'POST' : 'GET', body: path === '/e' ? '{}' : undefined, headers: { ...ORIGIN, 'user-agent': DESKTOP } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
  });
});

describe('bot hits on the live view', () => {
  const prefix = randomPrefix();
  // The live view's keys expire in real time, so the test's clock stays near the real one.
  const current = Math.floor(Date.now() / 60_000) * 60_000;
  let now = current + 10_000;
  let one: RunningTracker;
  let other: RunningTracker;
  beforeAll(async () => {
    const options = { prefix, sites: ['example.com', 'other.example'], dashboardToken: TOKEN, clock: () => now };
    one = await startTracker(options);
    other = await startTracker({ ...options, redis: new Redis(REDIS_URL, { enableAutoPipelining: true }) });
  });
  afterAll(async () => {
    await other?.close();
    await one?.close();
  });

  const live = async (tracker: RunningTracker) => {
    const res = await fetch(`${tracker.base}/api/live?site=example.com`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await res.json()) as { botHitsLastHour: number; pageviewsLast30Minutes: number };
  };
  const beacon = (tracker: RunningTracker, events: object[], userAgent = HEADLESS) =>
    fetch(`${tracker.base}/e`, { method: 'POST', body: JSON.stringify(events), headers: { 'user-agent': userAgent } });

  it('adds up the bot hits of the last hour over every tracker, per site', async () => {
    now = current - 61 * 60_000 + 50_000; // 61 minutes earlier: outside the hour
    expect((await fetch(`${one.base}/p.gif?site=example.com&path=/old`, { headers: { 'user-agent': 'curl/8.5.0' } })).headers.get('x-analytics-ignored')).toBe('bot');
    now = current - 59 * 60_000; // 59 minutes earlier: inside
    expect((await fetch(`${other.base}/p.gif?site=example.com&path=/a`, { headers: { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' } })).status).toBe(200);
    now = current + 10_000;
    const res = await beacon(one, [{ site: 'example.com', path: '/b' }, { site: 'example.com', path: '/c' }, { site: 'other.example', path: '/d' }, { site: 'nope.example', path: '/e' }]);
    expect(await res.json()).toEqual({ accepted: 0, rejected: 1, ignored: 3, errors: [{ index: 3, reason: 'unknown_site' }] });
    expect((await beacon(other, [{ site: 'example.com', path: '/f' }])).status).toBe(202);
    // A headless browser whose page asked for it is counted as a visitor, not as a bot.
    expect(await (await beacon(other, [{ site: 'example.com', path: '/g', allow_bots: true }])).json()).toMatchObject({ accepted: 1, ignored: 0 });

    for (const tracker of [one, other]) expect(await live(tracker)).toMatchObject({ botHitsLastHour: 4, pageviewsLast30Minutes: 1 });
    // Each minute's count is kept 62 minutes.
    const key = one.tracker.store.keys.live('example.com').bots(current);
    expect(await one.redis.get(key)).toBe('3');
    expect(await one.redis.ttl(key)).toBeGreaterThan(61 * 60);
    expect(await one.redis.ttl(key)).toBeLessThanOrEqual(62 * 60);
  });
});

describe('/metrics on its own port and behind METRICS_TOKEN (configured through the environment)', () => {
  it('answers only on METRICS_PORT, and only with the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rta-metrics-'));
    const prefix = randomPrefix();
    const metricsToken = 'a-metrics-token-for-prometheus';
    const config = parseConfig({
      SITES: 'example.com',
      REDIS_URL,
      REDIS_PREFIX: prefix,
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      METRICS_TOKEN: metricsToken,
      DUCKDB_PATH: join(dir, 'warehouse.duckdb'),
    });
    const service = await startTrackerService(config, pino({ level: 'silent' }));
    const redis = new Redis(REDIS_URL);
    try {
      expect(service.metricsPort).not.toBe(service.port);
      const main = `http://127.0.0.1:${service.port}`;
      const metrics = `http://127.0.0.1:${service.metricsPort}`;
      expect((await fetch(`${main}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).status).toBe(404);
      expect((await fetch(`${main}/healthz`)).status).toBe(200);
      const anonymous = await fetch(`${metrics}/metrics`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect((await fetch(`${metrics}/metrics`, { headers: { authorization: 'Bearer not-the-metrics-token' } })).status).toBe(401);
      const scrape = await fetch(`${metrics}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/^rta_events_accepted_total 0$/m);
      expect((await fetch(`${metrics}/p.gif?site=example.com&path=/`)).status).toBe(404);
    } finally {
      await service.close();
      await deleteKeysOf(redis, prefix);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
