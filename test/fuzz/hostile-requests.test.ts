/**
 * Fuzz: over 10,000 generated hostile requests per run against a tracker process (`pnpm cli
 * tracker`, TRUST_PROXY=1, a dashboard token), through fetch and raw sockets: malformed request
 * lines, headers and chunked bodies, invalid UTF-8 and lone surrogates, duplicated, array and
 * prototype-pollution parameters, deep JSON, slow and aborted uploads, wrong tokens.
 *
 * - No answer is a 5xx (Redis stays healthy), none takes more than 2 s after the request's
 *   last byte, and each counts exactly the events its generator built as valid.
 * - After the rejected-only part, Redis is byte for byte what it was.
 * - After the mixed part, the warehouse (DuckDB, flushed with flushOnce) holds exactly the
 *   accepted events; /metrics says the same.
 * - Clients stalled half-way are cut by the server (408) within its timeouts.
 * - The process is alive at the end, exits cleanly, and every line it wrote is JSON.
 *
 * The seed is printed; replay a run with FUZZ_SEED=<seed> (FUZZ_SCALE=<n> multiplies the counts).
 */
import { randomInt } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyUserAgent } from '@rta/events';
import type { Warehouse } from '@rta/warehouse';
import { exited, spawnCli } from '../support/child.js';
import { inParallel } from '../support/http-client.js';
import { flushOnce } from '../support/pipeline.js';
import { REDIS_URL, deleteKeysOf, randomPrefix, snapshotOf, testRedis } from '../support/redis.js';
import { warehouseFixtures, type WarehouseFixture } from '../support/warehouses.js';
import {
  BOT_USER_AGENTS,
  BROWSER_USER_AGENTS,
  FUZZ_SITES,
  FUZZ_TOKEN,
  Rng,
  abortedRequest,
  anonymousRequest,
  beaconRequest,
  credentialRequest,
  malformedRequest,
  pixelRequest,
  rawBeaconRequest,
  type FuzzRequest,
} from './generators.js';
import { exchange, stall } from './raw-http.js';

const SEED = Number(process.env.FUZZ_SEED ?? randomInt(1, 2 ** 31 - 1));
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** A request answered later than this after its last byte is a hang. */
const HANG_MS = 2_000;
/**
 * Milliseconds this process could not run (its timer fired late), so far. On a busy machine
 * the OS can stop the tracker and this test together for seconds; a request late by that much
 * is the machine's, not the tracker's. A request that blocks the tracker alone still shows.
 */
function stallMeter(tickMs = 20): { stalledMs(): number; stop(): void } {
  let stalled = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    stalled += Math.max(0, now - last - tickMs);
    last = now;
  }, tickMs);
  return { stalledMs: () => stalled + Math.max(0, performance.now() - last - tickMs), stop: () => clearInterval(timer) };
}
/** How long a request may take at all before the client gives up on it (then it is a hang too). */
const BOUND_MS = 15_000;
const CONCURRENCY = 16;
/** The tracker's client timeouts (services/tracker/src/server.ts CLIENT_TIMEOUTS). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

interface Outcome {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
  hung: boolean;
  error?: string;
}

/** What an answer says was counted: a pixel's GIF (not ignored as a bot) is 1, a beacon's 202 its `accepted`. */
function acceptedBy(outcome: Outcome): number {
  if (outcome.status === 200 && outcome.headers['content-type'] === 'image/gif' && !outcome.headers['x-analytics-ignored']) return 1;
  if (outcome.status === 202) return (JSON.parse(outcome.body.toString('utf8')) as { accepted: number }).accepted;
  return 0;
}

function describeRequest(request: FuzzRequest): string {
  const text =
    'fetch' in request.transport
      ? `${request.transport.fetch.method} ${request.transport.fetch.path} ${JSON.stringify(request.transport.fetch.headers)} ${String(request.transport.fetch.body ?? '')}`
      : Buffer.concat(request.transport.raw.pieces).toString('latin1');
  return `${request.kind}: ${JSON.stringify(text.slice(0, 300))}`;
}

describe(`fuzz: hostile requests (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  const prefix = randomPrefix();
  const redis = testRedis();
  const rng = new Rng(SEED);
  let fixture: WarehouseFixture;
  let warehouse: Warehouse;
  let child: ChildProcess;
  let exit: ReturnType<typeof exited>;
  let base: string;
  let port: number;
  const output: string[] = [];
  let sent = 0;
  let accepted = 0;
  let stalled: Array<Promise<{ closedAfterMs: number; status: number; timeoutMs: number }>> = [];

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npx vitest run test/fuzz)`);
    for (const ua of BROWSER_USER_AGENTS) expect(classifyUserAgent(ua).bot, ua).toBe(false);
    for (const ua of BOT_USER_AGENTS) expect(classifyUserAgent(ua).bot, ua).toBe(true);
    fixture = await warehouseFixtures.duckdb!();
    warehouse = fixture.create();
    await warehouse.migrate();
    child = spawnCli(['tracker'], {
      ...fixture.env,
      SITES: FUZZ_SITES.join(','),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      HOST: '127.0.0.1',
      PORT: '0',
      TRUST_PROXY: '1',
      DASHBOARD_TOKEN: FUZZ_TOKEN,
      LOG_LEVEL: 'debug',
    });
    exit = exited(child);
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop()!;
      output.push(...lines.filter(Boolean));
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const listening = output.map((line) => JSON.parse(line) as { msg?: string; port?: number }).find((line) => line.msg === 'tracker listening');
      if (listening) {
        port = listening.port!;
        break;
      }
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the tracker did not start:\n${output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    base = `http://127.0.0.1:${port}`;
    // Clients that stop half-way through their headers or their body, cut by the server's timeouts.
    const half = (timeoutMs: number, text: string) => stall(port, Buffer.from(text)).then((r) => ({ ...r, timeoutMs }));
    stalled = [
      ...Array.from({ length: 12 }, (_, i) => half(HEADERS_TIMEOUT_MS, `GET /p.gif?site=example.com&path=/stalled-${i} HTTP/1.1\r\nHost: tracker\r\nUser-Agent: x`)),
      ...Array.from({ length: 4 }, () => half(REQUEST_TIMEOUT_MS, 'POST /e HTTP/1.1\r\nHost: tracker\r\nContent-Length: 100\r\n\r\n[{"site":"example.com","path":"/stalled"')),
    ];
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await warehouse?.close();
    await fixture?.stop();
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  /** Sends every request (CONCURRENCY at a time) and returns what went wrong, with the events counted. */
  async function send(requests: FuzzRequest[]): Promise<{ failures: string[]; accepted: number; expected: number }> {
    const failures: string[] = [];
    let counted = 0;
    let expected = 0;
    const stalls = stallMeter();
    try {
      await inParallel(rng.shuffle(requests), CONCURRENCY, async (request) => {
        const stalledBefore = stalls.stalledMs();
        const answered = await perform(request);
        // A request is slow by what it waited while this process could run too: when the OS
        // stops both (a busy CI machine), every request in flight is late by the same seconds.
        const outcome = { ...answered, ms: answered.ms - (stalls.stalledMs() - stalledBefore) };
        sent++;
        const aborted = 'raw' in request.transport && request.transport.raw.abort;
        let got = 0;
        try {
          got = acceptedBy(outcome);
        } catch (error) {
          failures.push(`unreadable answer ${outcome.status} (${(error as Error).message}) to ${describeRequest(request)}`);
        }
        counted += got;
        expected += request.expectedAccepted;
        if (outcome.status >= 500) failures.push(`${outcome.status} to ${describeRequest(request)}`);
        else if (!aborted && (outcome.hung || outcome.ms > HANG_MS)) failures.push(`hang (${outcome.ms} ms) on ${describeRequest(request)}`);
        else if (!aborted && outcome.error) failures.push(`no answer (${outcome.error}) to ${describeRequest(request)}`);
        else if (got !== request.expectedAccepted) failures.push(`counted ${got}, expected ${request.expectedAccepted} (status ${outcome.status}, ${outcome.body.toString('utf8').slice(0, 200)}) for ${describeRequest(request)}`);
      });
    } finally {
      stalls.stop();
    }
    return { failures, accepted: counted, expected };
  }

  async function perform(request: FuzzRequest): Promise<Outcome> {
    if ('raw' in request.transport) {
      const answer = await exchange(port, request.transport.raw, BOUND_MS);
      return { status: answer.status, headers: answer.headers, body: answer.body, ms: answer.ms, hung: answer.timedOut, error: answer.status === 0 ? 'closed without an answer' : undefined };
    }
    const { method, path, headers, body } = request.transport.fetch;
    const started = Date.now();
    try {
      const res = await fetch(`${base}${path}`, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(BOUND_MS) });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: Object.fromEntries(res.headers), body: bytes, ms: Date.now() - started, hung: false };
    } catch (error) {
      const hung = (error as Error).name === 'TimeoutError';
      return { status: -1, headers: {}, body: Buffer.alloc(0), ms: Date.now() - started, hung, error: String(error) };
    }
  }

  const times = (n: number, make: () => FuzzRequest) => Array.from({ length: Math.round(n * SCALE) }, make);
  const report = (failures: string[]) => `${failures.length} failures (seed ${SEED}; replay with FUZZ_SEED=${SEED}):\n${failures.slice(0, 15).join('\n')}`;

  it('rejected-only part: every request rejected, no 5xx, no hang, and Redis byte-identical afterwards', async () => {
    // Something for the rejected requests to disturb: counters, sketches, sessions, live keys, bot counts.
    const warmUp = await send([...times(30, () => pixelRequest(rng, true)), ...times(20, () => beaconRequest(rng, 'mixed'))]);
    expect(warmUp.failures, report(warmUp.failures)).toEqual([]);
    accepted += warmUp.accepted;

    const started = Date.now();
    const before = await snapshotOf(redis, prefix);
    const requests = [
      ...times(2_600, () => pixelRequest(rng, false)),
      ...times(1_800, () => beaconRequest(rng, 'poisoned')),
      ...times(900, () => malformedRequest(rng)),
      ...times(300, () => rawBeaconRequest(rng, 'poisoned')),
      ...times(400, () => anonymousRequest(rng)),
      ...times(150, () => abortedRequest(rng)),
    ];
    const result = await send(requests);
    expect(result.failures, report(result.failures)).toEqual([]);
    expect(result.expected).toBe(0);
    const after = await snapshotOf(redis, prefix);
    // The one write no request causes: tomorrow's visitor salt, if the run passed 23:55 UTC.
    for (const key of after.keys()) if (!before.has(key) && key.startsWith(`${prefix}:salt:`) && key > `${prefix}:salt:${new Date().toISOString().slice(0, 10)}`) after.delete(key);
    expect(after).toEqual(before);
    console.log(`fuzz: ${requests.length} rejected-only requests in ${Date.now() - started} ms`);
  }, 180_000);

  it('mixed part: no 5xx, no hang, and the warehouse holds exactly the accepted events', async () => {
    const started = Date.now();
    const addresses = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
    const requests = [
      ...times(1_900, () => pixelRequest(rng, rng.chance(0.7))),
      ...times(1_400, () => beaconRequest(rng, 'mixed')),
      ...times(500, () => rawBeaconRequest(rng, 'mixed')),
      ...times(400, () => credentialRequest(rng, addresses)),
      ...times(200, () => malformedRequest(rng)),
      ...times(100, () => abortedRequest(rng)),
      ...times(100, () => anonymousRequest(rng)),
    ];
    const result = await send(requests);
    expect(result.failures, report(result.failures)).toEqual([]);
    accepted += result.accepted;
    expect(result.accepted).toBe(result.expected);
    expect(result.accepted).toBeGreaterThan(requests.length / 4); // the part is truly mixed

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(Number(/^rta_events_accepted_total (\d+)$/m.exec(metrics)?.[1])).toBe(accepted);
    await flushOnce(prefix, warehouse, { now: Date.now(), includeCurrentMinute: true, graceSeconds: 0 });
    const [row] = await warehouse.query("SELECT coalesce(sum(count), 0) AS n FROM event_counts WHERE dimension = 'total' AND event NOT IN ('visit', 'engaged_visit')");
    expect(Number(row!.n)).toBe(accepted);
    expect(sent).toBeGreaterThanOrEqual(10_000 * SCALE);
    console.log(`fuzz: ${requests.length} mixed requests in ${Date.now() - started} ms; ${sent} requests in all, ${accepted} events accepted and loaded`);
  }, 180_000);

  it('cuts clients that stall half-way (408) within its timeouts', async () => {
    const results = await Promise.all(stalled);
    for (const { closedAfterMs, status, timeoutMs } of results) {
      expect(status).toBe(408);
      expect(closedAfterMs).toBeGreaterThanOrEqual(timeoutMs - 1_000);
      expect(closedAfterMs).toBeLessThan(timeoutMs + 20_000); // the check runs every second; a busy machine adds more
    }
  }, 120_000);

  it('stays alive, exits cleanly, and writes nothing but JSON lines (no error, no token)', async () => {
    expect(child.exitCode).toBeNull();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    const { code } = await exit;
    expect(code).toBe(0);
    const lines = output.map((line) => {
      try {
        return JSON.parse(line) as { level: number; msg: string };
      } catch {
        throw new Error(`a log line is not JSON: ${line.slice(0, 300)}`);
      }
    });
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(output.join('\n')).not.toContain(FUZZ_TOKEN);
    expect(lines.filter((line) => line.msg === 'client went away').length).toBeGreaterThan(0);
  }, 60_000);
});
