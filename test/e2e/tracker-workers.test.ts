import { get } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, spawnCli } from '../support/child.js';
import { DESKTOP_CHROME } from '../support/browser.js';
import { REDIS_URL, deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';
import { AnalyticsStore } from '@rta/redis-store';
import { until } from '../support/wait.js';

/** One GET on a connection of its own (node:cluster hands each connection to one worker). */
function hit(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false, headers: { 'User-Agent': DESKTOP_CHROME } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

/** The value of a series in Prometheus text, e.g. `rta_tracker_requests_total{worker="1"}`. */
function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('TRACKER_WORKERS', () => {
  const redis = testRedis();
  const prefix = randomPrefix();
  afterAll(async () => {
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  it('runs two tracker processes on one port, /metrics counts both, a dead worker is replaced, SIGTERM stops all', async () => {
    const child = spawnCli(['tracker'], { SITES: 'example.com', REDIS_URL, REDIS_PREFIX: prefix, HOST: '127.0.0.1', PORT: '0', TRACKER_WORKERS: '2', LOG_LEVEL: 'info' });
    const exit = exited(child);
    const lines: Array<{ msg?: string; pid?: number; port?: number }> = [];
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (pending + chunk.toString()).split('\n');
      pending = parts.pop()!;
      for (const part of parts) if (part) lines.push(JSON.parse(part) as (typeof lines)[number]);
    });
    try {
      const listening = () => lines.find((l) => l.msg === 'tracker workers listening');
      const workerLines = () => lines.filter((l) => l.msg === 'tracker listening');
      // The primary's line and the workers' reach the pipe from three processes, in any order.
      await until(() => child.exitCode !== null || (listening() !== undefined && workerLines().length >= 2), { what: 'the workers to listen' });
      expect(listening(), JSON.stringify(lines)).toBeDefined();
      const port = listening()!.port!;
      const workerPids = workerLines().map((l) => l.pid!);
      expect(new Set(workerPids).size).toBe(2);
      expect(workerPids).not.toContain(child.pid);

      const SENT = 60;
      for (let i = 0; i < SENT; i++) {
        const answer = await hit(port, `/p.gif?site=example.com&path=/w/${i}&uid=w${i}`);
        expect(answer.status).toBe(200);
      }
      const metrics = (await hit(port, '/metrics')).body;
      // Every hit and the /metrics request itself, spread over both workers.
      const one = series(metrics, 'rta_tracker_requests_total{worker="1"}') ?? 0;
      const two = series(metrics, 'rta_tracker_requests_total{worker="2"}') ?? 0;
      expect(one).toBeGreaterThan(0);
      expect(two).toBeGreaterThan(0);
      expect(one + two).toBe(SENT + 1);
      expect(series(metrics, 'rta_events_accepted_total')).toBe(SENT);
      // And Redis holds every event the two processes acknowledged.
      const store = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 10_000 });
      const backlog = await store.backlog(Date.now() + 120_000);
      expect(backlog.reduce((sum, b) => sum + b.events, 0)).toBe(SENT);

      // A worker that dies is replaced; the port keeps answering meanwhile.
      process.kill(workerPids[0]!, 'SIGKILL');
      await until(() => lines.filter((l) => l.msg === 'tracker listening').length === 3, { what: 'a replacement worker' });
      expect(lines.some((l) => l.msg === 'tracker worker died; starting another')).toBe(true);
      expect((await hit(port, '/p.gif?site=example.com&path=/after&uid=after')).status).toBe(200);
      expect(series((await hit(port, '/metrics')).body, 'rta_events_accepted_total')).toBeGreaterThanOrEqual(1);

      const pids = lines.filter((l) => l.msg === 'tracker listening').map((l) => l.pid!).filter(alive);
      expect(pids).toHaveLength(2);
      child.kill('SIGTERM');
      expect((await exit).code).toBe(0);
      await until(() => pids.every((pid) => !alive(pid)), { what: 'every worker to exit' });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
