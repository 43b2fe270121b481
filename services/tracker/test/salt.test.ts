import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LogLimiter } from '@rta/config';
import { DailySalt } from '../src/salt.js';
import { DESKTOP, capturedLogger, snapshotOf, startTracker, until, type RunningTracker } from './support.js';

const NOON = Date.UTC(2026, 5, 1, 12, 0);
const BEFORE_MIDNIGHT = Date.UTC(2026, 5, 1, 23, 57);
const AFTER_MIDNIGHT = Date.UTC(2026, 5, 2, 0, 0, 1);

/** A salt source that fails its next `failures` calls (Redis down), then answers. */
class FlakySource {
  calls: string[] = [];
  constructor(public failures = 0) {}
  async daySalt(day: string): Promise<string> {
    this.calls.push(day);
    if (this.failures-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return `salt-${day}`;
  }
}


function dailySalt(source: FlakySource, clock: () => number, logger = pino({ level: 'silent' })) {
  return new DailySalt(source, clock, { limiter: new LogLimiter(logger, { intervalMs: 60_000 }), logger, retryMs: 10 });
}

describe('DailySalt', () => {
  it('fetches today before the tracker listens, and refuses to start without it', async () => {
    const source = new FlakySource();
    const salt = dailySalt(source, () => NOON);
    await salt.start();
    expect(source.calls).toEqual(['2026-06-01']);
    expect(salt.today()).toBe('salt-2026-06-01');
    salt.stop();

    const down = dailySalt(new FlakySource(1), () => NOON);
    await expect(down.start()).rejects.toThrow('ECONNREFUSED');
    expect(down.today()).toBeUndefined();
    down.stop();
  });

  it('fetches tomorrow before midnight, so the first hit of the day reads memory only', async () => {
    const source = new FlakySource();
    let now = BEFORE_MIDNIGHT; // started in the last minutes of the day: tomorrow is fetched at once
    const salt = dailySalt(source, () => now);
    await salt.start();
    await until(() => source.calls.length === 2);
    expect(source.calls).toEqual(['2026-06-01', '2026-06-02']);
    now = AFTER_MIDNIGHT;
    expect(salt.today()).toBe('salt-2026-06-02');
    expect(source.calls).toHaveLength(2);
    salt.stop();
  });

  it('prefetches at 23:55 UTC and retries every 5 s by default', async () => {
    const source = new FlakySource();
    const logger = pino({ level: 'silent' });
    const salt = new DailySalt(source, () => NOON, { limiter: new LogLimiter(logger), logger });
    await salt.start();
    const next = salt.task!.getNextRun()!;
    expect(next.toISOString().slice(11, 16)).toBe('23:55');
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    vi.useFakeTimers();
    try {
      source.failures = 2;
      const prefetch = salt.prefetchTomorrow();
      await vi.advanceTimersByTimeAsync(0);
      expect(source.calls).toHaveLength(2); // today at start, then the first attempt for tomorrow
      await vi.advanceTimersByTimeAsync(4_999);
      expect(source.calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(source.calls).toHaveLength(3);
      await vi.advanceTimersByTimeAsync(5_000);
      await prefetch;
      expect(source.calls).toEqual(['2026-06-01', '2026-06-02', '2026-06-02', '2026-06-02']);
    } finally {
      vi.useRealTimers();
      salt.stop();
    }
  });

  it('retries a failed prefetch, past midnight too, logging one line per interval', async () => {
    const { logger, lines } = capturedLogger();
    const source = new FlakySource();
    let now = NOON;
    const salt = dailySalt(source, () => now, logger);
    await salt.start();
    source.failures = Number.POSITIVE_INFINITY; // Redis goes down before 23:55
    now = BEFORE_MIDNIGHT;
    const prefetch = salt.prefetchTomorrow(); // what the 23:55 UTC task runs
    await until(() => source.calls.length >= 5);
    now = AFTER_MIDNIGHT; // the new day starts without its salt
    expect(salt.today()).toBeUndefined();
    const before = source.calls.length;
    await until(() => source.calls.length >= before + 3); // still trying for what is now today
    source.failures = 0; // Redis is back
    await prefetch;
    expect(salt.today()).toBe('salt-2026-06-02');
    expect(new Set(source.calls.slice(1))).toEqual(new Set(['2026-06-02']));
    expect(lines.filter((l) => l.msg === 'cannot fetch the visitor salt from Redis; retrying')).toHaveLength(1);
    salt.stop();
  });

  it('fetches a missing day once however many requests ask, and stop() ends the retries', async () => {
    const source = new FlakySource(Number.POSITIVE_INFINITY);
    const salt = dailySalt(source, () => NOON);
    await expect(salt.start()).rejects.toThrow();
    for (let i = 0; i < 100; i++) salt.fetchToday();
    await until(() => source.calls.length >= 4);
    salt.stop();
    const stopped = source.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(source.calls.length).toBeLessThanOrEqual(stopped + 1);
    // One retry loop, not a hundred: calls are spaced by the retry pause.
    expect(source.calls.length).toBeLessThan(100);
  });
});

describe('a day whose salt is not in memory', () => {
  let running: RunningTracker;
  let now = NOON;
  beforeAll(async () => {
    running = await startTracker({ clock: () => now, saltRetryMs: 50 });
  });
  afterAll(() => running?.close());

  const pixel = (query: string, userAgent = DESKTOP) => fetch(`${running.base}/p.gif?${query}`, { headers: { 'user-agent': userAgent } });

  it('leaves Redis untouched for rejected hits; a hit to count gets 503 and the salt is fetched off its path', async () => {
    now = Date.UTC(2026, 5, 3, 8, 0); // two days on: neither the cron task nor a request fetched this day's salt
    const saltKey = running.tracker.store.keys.salt('2026-06-03');
    const before = await snapshotOf(running.redis, running.prefix);
    for (const query of ['site=evil.example&path=/', 'site=example.com&path=nope', 'path=/', 'site=evil.example&path=/bot']) {
      expect((await pixel(query)).status, query).toBe(400);
    }
    expect((await pixel('site=evil.example&path=/', 'Googlebot/2.1')).status).toBe(400);
    expect(await snapshotOf(running.redis, running.prefix)).toEqual(before);
    expect(await running.redis.exists(saltKey)).toBe(0);

    const first = await pixel('site=example.com&path=/first');
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    await until(async () => (await running.redis.exists(saltKey)) === 1);
    await until(async () => (await pixel('site=example.com&path=/second')).status === 200);
    expect(await running.redis.hget(running.tracker.store.keys.bucket({ site: 'example.com', minute: now }).counter('page', 0), 'pageview\x1f/second')).toBe('1');
  });
});
