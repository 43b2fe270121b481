import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { cronLogger } from '../src/salt.js';
import { DESKTOP, REDIS_URL, TOKEN, capturedLogger, deleteKeysOf, startTracker, until } from './support.js';

const CLIENT = '203.0.113.77';


/** Sends `text` on a raw socket, then closes it (`reset`: with a TCP RST) without reading the answer. */
function sendAndLeave(port: number, text: string, reset: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text, () => setTimeout(() => (reset ? socket.resetAndDestroy() : socket.destroy()), 20));
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

describe('tracker logs', () => {
  it('logs aborted uploads and reset connections at debug only, as JSON', async () => {
    const { logger, lines } = capturedLogger('trace');
    const running = await startTracker({ logger });
    const startup = lines.length; // what the tracker says once when it starts (the geolocation database it loaded)
    try {
      const port = Number(new URL(running.base).port);
      const upload = 'POST /e HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{"site":"example.com';
      await Promise.all(Array.from({ length: 60 }, (_, i) => sendAndLeave(port, upload, i % 2 === 1)));
      await until(() => lines.filter((l) => l.msg === 'client went away').length === 60);
      expect(lines.slice(startup).filter((l) => (l.level as number) > 20)).toEqual([]);
      expect((await fetch(`${running.base}/healthz`)).status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('logs a failure that repeats per request once per interval, with a count, and no secret or client address', async () => {
    const { logger, lines } = capturedLogger('trace');
    const redis = new Redis(REDIS_URL, { lazyConnect: true, enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    await redis.connect();
    const running = await startTracker({ redis, logger, dashboardToken: TOKEN, trustProxy: true, repeatedLogIntervalMs: 600_000 });
    const cleanup = new Redis(REDIS_URL);
    try {
      redis.disconnect(); // Redis goes away
      const headers = { 'user-agent': DESKTOP, 'x-forwarded-for': CLIENT };
      for (let i = 0; i < 200; i++) expect((await fetch(`${running.base}/p.gif?site=example.com&path=/down-${i}`, { headers })).status).toBe(503);
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${running.base}/api/live`, { headers: { ...headers, authorization: `Bearer ${TOKEN}` } });
        expect([res.status, res.headers.get('retry-after')]).toEqual([503, '1']);
        expect(await res.json()).toEqual({ error: 'storage_unavailable' });
      }
      const page = await fetch(`${running.base}/dashboard`, { headers });
      expect([page.status, page.headers.get('content-type'), page.headers.get('retry-after')]).toEqual([503, 'text/html; charset=utf-8', '1']);
      expect(await page.text()).toContain('The dashboard cannot reach Redis right now.');
      const whileDown = lines.filter((l) => (l.level as number) >= 40).map((l) => l.msg);
      expect(whileDown).toEqual(['Redis did not acknowledge the writes', 'cannot count token attempts in Redis']);
    } finally {
      await running.close(); // reports what the limiter held back
      await deleteKeysOf(cleanup, running.prefix);
      cleanup.disconnect();
    }
    const summaries = lines.filter((l) => l.repeated !== undefined).map((l) => [l.msg, l.repeated]);
    expect(summaries).toEqual([
      ['Redis did not acknowledge the writes', 199],
      ['cannot count token attempts in Redis', 50],
    ]);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(CLIENT);
  });

  it('logs wrong tokens once per interval, without the token or the address', async () => {
    const { logger, lines } = capturedLogger('trace');
    const running = await startTracker({ logger, dashboardToken: TOKEN, trustProxy: true });
    try {
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${running.base}/api/live`, { headers: { authorization: `Bearer guess-number-${i}-xxxxxxxxxx`, 'x-forwarded-for': `198.51.100.${i}` } });
        expect(res.status).toBe(401);
      }
    } finally {
      await running.close();
    }
    expect(lines.filter((l) => l.msg === 'wrong token presented').map((l) => l.repeated)).toEqual([undefined, 29]);
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toMatch(/guess-number|198\.51\.100/);
  });

  it("writes node-cron's own messages as JSON lines", () => {
    const { logger, lines } = capturedLogger('debug');
    const cron = cronLogger(logger);
    cron.warn('missed execution at Tue Jun 02 2026 23:55:00! Possible blocking IO');
    cron.error('Task failed with error!', new Error('boom'));
    cron.error(new Error('bare error'));
    expect(lines.map((l) => [l.level, l.msg, (l.err as { message?: string } | undefined)?.message])).toEqual([
      [40, 'missed execution at Tue Jun 02 2026 23:55:00! Possible blocking IO', undefined],
      [50, 'Task failed with error!', 'boom'],
      [50, 'bare error', 'bare error'],
    ]);
  });
});
