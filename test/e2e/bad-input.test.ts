/**
 * Hostile requests: each gets its documented status and reason, the tracker keeps answering,
 * and rejected requests leave Redis and the warehouse exactly as they were. Hostile but valid
 * values (SQL, braces, colons, stars, unicode) are stored verbatim.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeysOf, randomPrefix, snapshotOf, testRedis } from '../support/redis.js';
import { warehouseFixtures, type WarehouseFixture } from '../support/warehouses.js';
import { flushOnce, startTestTracker, type TestTracker } from '../support/pipeline.js';
import { USER_AGENTS } from '../support/traffic.js';

const SITE = 'example.com';
const T0 = Date.UTC(2026, 3, 1, 8, 0, 30);
const UA = USER_AGENTS.desktop;

interface Case {
  name: string;
  /** Query string for GET /p.gif, or a request description. */
  pixel?: string;
  post?: { body: string | Buffer; type?: string };
  method?: string;
  path?: string;
  status: number;
  reason?: string;
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const long = (n: number, c = 'a') => c.repeat(n);
const json = (value: unknown) => ({ body: JSON.stringify(value) });
const ok = { site: SITE, path: '/ok' };

const REJECTED: Case[] = [
  { name: 'no parameters', pixel: '', status: 400, reason: 'missing_site' },
  { name: 'empty site', pixel: q({ site: '', path: '/' }), status: 400, reason: 'missing_site' },
  { name: 'unknown site', pixel: q({ site: 'evil.example', path: '/' }), status: 400, reason: 'unknown_site' },
  { name: 'site too long', pixel: q({ site: long(300), path: '/' }), status: 400, reason: 'unknown_site' },
  { name: 'site with wildcard', pixel: q({ site: '*', path: '/' }), status: 400, reason: 'unknown_site' },
  { name: 'path of 1,025 chars', pixel: q({ site: SITE, path: '/' + long(1_024) }), status: 400, reason: 'path_too_long' },
  { name: 'relative path', pixel: q({ site: SITE, path: 'pricing' }), status: 400, reason: 'invalid_path' },
  { name: 'CRLF in path', pixel: q({ site: SITE, path: '/a\r\nSet-Cookie: x=1' }), status: 400, reason: 'invalid_path' },
  { name: 'NUL in path', pixel: q({ site: SITE, path: '/a\u0000b' }), status: 400, reason: 'invalid_path' },
  { name: 'tab in path', pixel: q({ site: SITE, path: '/a\tb' }), status: 400, reason: 'invalid_path' },
  { name: 'C1 control in path', pixel: q({ site: SITE, path: '/a\u0085b' }), status: 400, reason: 'invalid_path' },
  { name: 'line separator in path', pixel: q({ site: SITE, path: '/a\u2028b' }), status: 400, reason: 'invalid_path' },
  { name: 'referrer of 2,049 chars', pixel: q({ ...ok, ref: 'https://a.com/' + long(2_035) }), status: 400, reason: 'referrer_too_long' },
  { name: 'referrer not a URL', pixel: q({ ...ok, ref: 'not a url' }), status: 400, reason: 'invalid_referrer' },
  { name: 'CRLF in referrer', pixel: q({ ...ok, ref: 'https://a.com/\r\nX: y' }), status: 400, reason: 'invalid_referrer' },
  { name: 'event with a space', pixel: q({ ...ok, event: 'sign up' }), status: 400, reason: 'invalid_event' },
  { name: 'event of 65 chars', pixel: q({ ...ok, event: long(65) }), status: 400, reason: 'invalid_event' },
  { name: 'event with unicode', pixel: q({ ...ok, event: 'señal' }), status: 400, reason: 'invalid_event' },
  { name: 'event with SQL', pixel: q({ ...ok, event: "x'; DROP TABLE event_counts; --" }), status: 400, reason: 'invalid_event' },
  { name: 'event with braces', pixel: q({ ...ok, event: '{hash}tag' }), status: 400, reason: 'invalid_event' },
  { name: 'uid of 129 chars', pixel: q({ ...ok, uid: long(129) }), status: 400, reason: 'uid_too_long' },
  { name: 'uid with a newline', pixel: q({ ...ok, uid: 'a\nb' }), status: 400, reason: 'invalid_uid' },
  { name: 'utm_source of 257 chars', pixel: q({ site: SITE, path: `/x?utm_source=${long(257)}` }), status: 400, reason: 'invalid_utm' },
  { name: 'javascript: url', pixel: q({ site: SITE, url: 'javascript:alert(1)' }), status: 400, reason: 'invalid_url' },
  { name: 'url of 4,097 chars', pixel: q({ site: SITE, url: 'https://example.com/' + long(4_077) }), status: 400, reason: 'url_too_long' },
  { name: 'query string of 9 KiB', pixel: q({ ...ok, pad: long(9 * 1_024) }), status: 400, reason: 'query_too_long' },
  { name: 'query string of 1 MB (HTTP parser limit)', pixel: q({ ...ok, pad: long(1_024 * 1_024) }), status: 431 },
  { name: 'PUT on the pixel', method: 'PUT', path: '/p.gif', status: 405 },
  { name: 'GET on the beacon', method: 'GET', path: '/e', status: 405 },
  { name: 'unknown route', method: 'GET', path: '/admin/../../etc/passwd', status: 404 },
  { name: 'invalid JSON', post: { body: '{"site": "example.com",' }, status: 400, reason: 'invalid_json' },
  { name: 'invalid UTF-8 in body', post: { body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }, status: 400, reason: 'invalid_json' },
  { name: 'body over 64 KiB', post: json({ ...ok, pad: long(70_000) }), status: 413, reason: 'body_too_large' },
  { name: 'form content type', post: { body: 'site=example.com', type: 'application/x-www-form-urlencoded' }, status: 415, reason: 'unsupported_media_type' },
  { name: '101-event batch', post: json(Array.from({ length: 101 }, () => ok)), status: 400, reason: 'batch_too_large' },
  { name: 'empty batch', post: json([]), status: 400, reason: 'empty_batch' },
  { name: 'a number', post: json(42), status: 400, reason: 'invalid_body' },
  { name: 'a string', post: json('example.com'), status: 400, reason: 'invalid_body' },
  { name: 'null', post: json(null), status: 400, reason: 'invalid_body' },
  { name: 'array of non-objects', post: json([1, 'x', null, [ok]]), status: 400, reason: 'invalid_body' },
  { name: 'site as a number', post: json({ site: 5, path: '/' }), status: 400, reason: 'invalid_field_type' },
  { name: 'path as an object', post: json({ site: SITE, path: { $gt: '' } }), status: 400, reason: 'invalid_field_type' },
  { name: 'path as an array', post: json({ site: SITE, path: ['/a', '/b'] }), status: 400, reason: 'invalid_field_type' },
  { name: 'lone surrogate in path', post: { body: '{"site":"example.com","path":"/a\\ud800"}' }, status: 400, reason: 'invalid_path' },
  { name: '__proto__ smuggling', post: { body: '{"__proto__":{"site":"example.com","path":"/x"}}' }, status: 400, reason: 'missing_site' },
  { name: 'deeply nested JSON', post: { body: '['.repeat(30_000) + ']'.repeat(30_000) }, status: 400 },
];

/** Hostile but valid: counted, and stored exactly as sent. */
const ACCEPTED_PATHS = [
  "/'); DROP TABLE event_counts; --",
  '/{braces}/and:colons/*/stars*',
  '/{example.com:202604010800}:c:page:0',
  '/ünïcödé/日本語/😀/\u202eRTL',
  "/back\\slash/$$dollar$$/'quote'/\"dq\"",
];

describe.each(Object.keys(warehouseFixtures))('bad input on %s', (kind) => {
  let fixture: WarehouseFixture;
  let tracker: TestTracker;
  const prefix = randomPrefix();
  const redis = testRedis();

  beforeAll(async () => {
    fixture = await warehouseFixtures[kind]!();
    tracker = await startTestTracker({ prefix, sites: [SITE], now: T0 });
  });
  afterAll(async () => {
    await tracker?.close();
    await fixture?.stop();
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  it(`answers ${REJECTED.length} hostile requests with their documented status and changes nothing`, async () => {
    expect(REJECTED.length).toBeGreaterThanOrEqual(40);
    for (const path of ACCEPTED_PATHS) {
      const res = await fetch(`${tracker.base}/p.gif?${q({ site: SITE, path })}`, { headers: { 'user-agent': UA } });
      expect(res.status, path).toBe(200);
    }
    const before = await snapshotOf(redis, prefix);
    for (const c of REJECTED) {
      const res = await send(tracker.base, c);
      expect({ name: c.name, status: res.status }).toEqual({ name: c.name, status: c.status });
      if (c.reason) expect(res.headers.get('x-analytics-rejected'), c.name).toBe(c.reason);
      if (c.pixel !== undefined && c.status === 400) {
        expect(res.headers.get('content-type')).toBe('image/gif');
        expect(Buffer.from(await res.arrayBuffer())).toHaveLength(43);
      }
      expect((await fetch(`${tracker.base}/healthz`)).status, `healthz after ${c.name}`).toBe(200);
    }
    expect(await rawRequest(tracker.base, 'GET /p.gif?site=example.com&path=/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect(await rawRequest(tracker.base, 'GET /p.gif HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect(await snapshotOf(redis, prefix)).toEqual(before);

    const metrics = await (await fetch(`${tracker.base}/metrics`)).text();
    expect(metrics).toMatch(/rta_events_rejected_total\{reason="invalid_path"\} [1-9]/);
    expect(metrics).toMatch(/rta_events_accepted_total 5\b/);

    const warehouse = fixture.create();
    try {
      await warehouse.migrate();
      await flushOnce(prefix, warehouse, { now: T0 + 10 * 60_000 });
      const rows = await warehouse.query("SELECT value, sum(count) AS n FROM event_counts WHERE dimension = 'page' GROUP BY value");
      expect(new Map(rows.map((r) => [r.value, Number(r.n)]))).toEqual(new Map(ACCEPTED_PATHS.map((p) => [p.slice(0, p.search(/[?#]/) < 0 ? undefined : p.search(/[?#]/)), 1])));
      const [total] = await warehouse.query("SELECT sum(count) AS n FROM event_counts WHERE dimension = 'total' AND event = 'pageview'");
      expect(total).toEqual({ n: ACCEPTED_PATHS.length });
      // The accepted hits come from one visitor (same address and user agent): one visit, engaged.
      const visits = await warehouse.query("SELECT event, sum(count) AS n FROM event_counts WHERE dimension = 'total' AND event <> 'pageview' GROUP BY event ORDER BY event");
      expect(visits).toEqual([{ event: 'engaged_visit', n: 1 }, { event: 'visit', n: 1 }]);
    } finally {
      await warehouse.close();
    }
  });
});

async function send(base: string, c: Case): Promise<Response> {
  const headers = { 'user-agent': UA };
  if (c.pixel !== undefined) return fetch(`${base}/p.gif?${c.pixel}`, { headers });
  if (c.post) {
    return fetch(`${base}/e`, {
      method: 'POST',
      headers: { ...headers, 'content-type': c.post.type ?? 'application/json' },
      body: c.post.body,
    });
  }
  return fetch(`${base}${c.path}`, { method: c.method, headers });
}

/** Bytes no well-behaved client would send, straight onto a socket. */
function rawRequest(base: string, text: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
    let reply = '';
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('end', () => resolve(reply));
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}
