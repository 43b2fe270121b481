import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker, type Tracker } from '../src/index.js';
import { LOGIN_THROTTLE } from '../src/dashboard-auth.js';

const TOKEN = 'a-dashboard-token-of-32-characters';

describe('dashboard login throttle', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let tracker: Tracker;
  let base: string;

  beforeAll(async () => {
    tracker = createTracker({ redis, sites: ['example.com'], prefix: 'login-test', logger: pino({ level: 'silent' }), dashboardToken: TOKEN });
    base = `http://127.0.0.1:${await tracker.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await tracker.close();
    redis.disconnect();
  });

  const login = (token: string) =>
    fetch(`${base}/dashboard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });

  it(`answers 429 after ${LOGIN_THROTTLE.attempts} wrong tokens from one address, even to the right token`, async () => {
    expect((await login(TOKEN)).status).toBe(303);
    for (let i = 0; i < LOGIN_THROTTLE.attempts; i++) expect((await login(`wrong-token-number-${i}-xxxxxxxx`)).status).toBe(401);
    const blocked = await login(TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    const api = await fetch(`${base}/api/live?site=example.com`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(429);
    expect(await api.json()).toMatchObject({ error: 'too_many_attempts' });
  });
});
