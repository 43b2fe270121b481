import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_THROTTLE } from '../src/token-gate.js';
import { REDIS_URL, TOKEN, inParallel, keysOf, randomPrefix, startTracker, type RunningTracker } from './support.js';

const METRICS_TOKEN = 'a-metrics-token-of-32-characters';

describe('one token throttle in front of every endpoint that checks a token', () => {
  const prefix = randomPrefix();
  let one: RunningTracker;
  let other: RunningTracker; // a second tracker process on the same Redis, as behind a load balancer
  let cookie: string;

  beforeAll(async () => {
    const options = { prefix, dashboardToken: TOKEN, trustProxy: 1, metrics: { token: METRICS_TOKEN } };
    one = await startTracker(options);
    other = await startTracker({ ...options, redis: new Redis(REDIS_URL, { enableAutoPipelining: true }) });
    const login = await send(one, '/dashboard/login', '192.0.2.1', { method: 'POST', body: new URLSearchParams({ token: TOKEN }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(login.status).toBe(303);
    cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  });
  afterAll(async () => {
    await other?.close();
    await one?.close();
  });

  /** A request from client `ip` (behind one trusted proxy, which appended it to X-Forwarded-For). */
  function send(tracker: RunningTracker, path: string, ip: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    return fetch(`${tracker.base}${path}`, { redirect: 'manual', ...init, headers: { 'x-forwarded-for': ip, ...init.headers } });
  }
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const block = async (ip: string) => {
    for (let i = 0; i < LOGIN_THROTTLE.attempts; i++) {
      const res = await send(one, '/dashboard', ip, bearer(`wrong-token-number-${i}-xxxxxxxx`));
      expect(res.status, `wrong token ${i + 1}`).toBe(401);
      await res.text();
    }
  };
  /** Every place a token is checked, each with the right credential, and its status before the address is blocked. */
  const everywhere = (ip: string): Array<[string, () => Promise<Response>, number]> => [
    ['GET /dashboard without a token', () => send(one, '/dashboard', ip), 401],
    ['GET /dashboard with the right bearer token', () => send(one, '/dashboard', ip, bearer(TOKEN)), 200],
    ['GET /dashboard with the login cookie', () => send(one, '/dashboard', ip, { headers: { cookie } }), 200],
    ['POST /dashboard/login with the right token', () => send(one, '/dashboard/login', ip, { method: 'POST', body: `token=${TOKEN}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 303],
    ['GET /api/live', () => send(one, '/api/live?site=example.com', ip, bearer(TOKEN)), 200],
    ['GET /api/history (no warehouse here: 503 once let in)', () => send(one, '/api/history?site=example.com', ip, { headers: { cookie } }), 503],
    ['GET /api/export (no warehouse here: 503 once let in)', () => send(one, '/api/export?site=example.com&query=traffic', ip, bearer(TOKEN)), 503],
    ['GET /metrics with METRICS_TOKEN', () => send(one, '/metrics', ip, bearer(METRICS_TOKEN)), 200],
    ['GET /api/live on another tracker', () => send(other, '/api/live?site=example.com', ip, bearer(TOKEN)), 200],
  ];

  it(`answers 429 everywhere, right token or not and on every tracker, after ${LOGIN_THROTTLE.attempts} wrong tokens on /dashboard`, async () => {
    for (const [name, request, status] of everywhere('203.0.113.7')) expect((await request()).status, name).toBe(status);

    await block('203.0.113.7');
    for (const [name, request] of everywhere('203.0.113.7')) {
      const res = await request();
      expect(res.status, name).toBe(429);
      expect(Number(res.headers.get('retry-after')), name).toBeGreaterThan(LOGIN_THROTTLE.windowMs / 1_000 - 120);
      await res.arrayBuffer();
    }
    const api = await send(one, '/api/live?site=example.com', '203.0.113.7', bearer(TOKEN));
    expect(await api.json()).toMatchObject({ error: 'too_many_attempts' });
    // Another address is not affected.
    expect((await send(one, '/api/live?site=example.com', '198.51.100.1', bearer(TOKEN))).status).toBe(200);
  });

  it('checks at most the allowed number of wrong tokens however many arrive at once', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(i % 2 ? one : other, '/api/live', '203.0.113.50', bearer(`concurrent-wrong-${i}-xxxxxxxxxx`)).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(LOGIN_THROTTLE.attempts);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40 - LOGIN_THROTTLE.attempts);
  });

  it('never forgets a blocked address: 10,001 other addresses with wrong tokens later, it still gets 429', async () => {
    await block('203.0.113.8');
    const flood = Array.from({ length: 10_001 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    let unauthorized = 0;
    await inParallel(flood, 32, async (ip) => {
      const res = await send(one, '/api/live', ip, bearer('a-wrong-token-from-the-flood'));
      if (res.status === 401) unauthorized++;
      await res.arrayBuffer();
    });
    expect(unauthorized).toBe(flood.length);
    expect((await send(one, '/api/live?site=example.com', '203.0.113.8', bearer(TOKEN))).status).toBe(429);
    expect((await send(other, '/dashboard', '203.0.113.8', bearer(TOKEN))).status).toBe(429);

    // Redis knows the addresses only as digests: neither key names nor values hold one.
    const keys = await keysOf(one.redis, prefix);
    expect(keys.filter((k) => k.includes(':token-attempts:')).length).toBeGreaterThan(flood.length);
    expect(keys.filter((k) => /\d+\.\d+\.\d+\.\d+/.test(k))).toEqual([]);
    const values = await Promise.all(keys.filter((k) => k.includes(':token-attempts:')).slice(0, 100).map((k) => one.redis.get(k)));
    expect(values.every((v) => /^\d+$/.test(v ?? ''))).toBe(true);
  });

  it('keeps the login form behind the same count', async () => {
    const login = (token: string) =>
      send(one, '/dashboard/login', '203.0.113.9', { method: 'POST', body: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await login(TOKEN)).status).toBe(303);
    for (let i = 0; i < LOGIN_THROTTLE.attempts; i++) expect((await login(`wrong-token-number-${i}-xxxxxxxx`)).status).toBe(401);
    const blocked = await login(TOKEN);
    expect(blocked.status).toBe(429);
    expect(await blocked.text()).toContain('Too many wrong tokens; try again in 15 minutes.');
    expect((await send(one, '/dashboard', '203.0.113.9')).status).toBe(429);
  });
});

describe('token throttle key', () => {
  it('lives in Redis only as long as the window', async () => {
    const running = await startTracker({ dashboardToken: TOKEN });
    try {
      expect((await fetch(`${running.base}/api/live`, bearer('wrong-token-wrong-token'))).status).toBe(401);
      const [key] = (await keysOf(running.redis, running.prefix)).filter((k) => k.includes(':token-attempts:'));
      const ttl = await running.redis.pttl(key!);
      expect(ttl).toBeGreaterThan(LOGIN_THROTTLE.windowMs - 60_000);
      expect(ttl).toBeLessThanOrEqual(LOGIN_THROTTLE.windowMs);
    } finally {
      await running.close();
    }
  });
});

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}
