/**
 * Seeded generators of hostile requests, each with what it must do: the number of events the
 * tracker must count from it (0 for every rejected-only request). Validity is decided here by
 * construction, not by asking the tracker: a valid event is built from valid parts only, and an
 * invalid one carries at least one part that the README says is rejected (its "poison").
 */
import { random } from '../support/traffic.js';
import type { RawExchange } from './raw-http.js';

export const FUZZ_SITES = ['example.com', 'shop.example.org'] as const;
export const FUZZ_TOKEN = 'fuzz-dashboard-token-0123456789';

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = random(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
  /** Printable ASCII letters and digits. */
  word(min: number, max: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    return Array.from({ length: this.int(min, max) }, () => this.pick([...alphabet])).join('');
  }
  /** Any code units: controls, lone surrogates, astral characters. */
  units(max: number): string {
    return String.fromCharCode(...Array.from({ length: this.int(0, max) }, () => (this.chance(0.3) ? this.int(0, 0x7f) : this.chance(0.5) ? this.int(0xd800, 0xdfff) : this.int(0, 0xffff))));
  }
}

export type Transport =
  | { fetch: { method: string; path: string; headers: Record<string, string>; body?: string | Buffer } }
  | { raw: RawExchange };

/** A generated request and what it must do. */
export interface FuzzRequest {
  /** Category, for the failure report. */
  kind: string;
  transport: Transport;
  /** Events it must get counted. */
  expectedAccepted: number;
}

// --- user agents (their bot labels are checked against the tracker's classifier at start) ---

export const BROWSER_USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64)',
] as const;
export const BOT_USER_AGENTS = [
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'curl/8.5.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36',
  'python-requests/2.31.0',
] as const;

// --- values ---

/** Hostile but valid in a path: stored verbatim. */
const VALID_SEGMENTS = [
  "'); DROP TABLE event_counts; --",
  '{example.com:202604010800}:c:page:0',
  '{rta:example.com}:live:s:x',
  '*',
  'ünïcödé',
  '日本語',
  '😀',
  '\u202eRTL',
  'back\\slash',
  '$$dollar$$',
  '"dq"',
  "'sq'",
  '%zz',
  '%25',
  '..',
  '__proto__',
  'constructor',
  'prototype',
  '<script>alert(1)</script>',
  'a b',
  '+plus+',
  '&amp;',
  '\u00a0nbsp',
  '${jndi:ldap://x}',
];
/** Anything at all, for fields and parameters that are ignored or whose poison decides. */
const JUNK_VALUES = [
  ...VALID_SEGMENTS,
  '',
  ' ',
  '\u0000',
  '\r\n',
  '\ud800',
  '\udfff',
  '\udfff\ud800',
  'null',
  'undefined',
  'NaN',
  '1e309',
  '-0',
  '[]',
  '{}',
  'true',
  'x'.repeat(3_000),
];
const JUNK_KEYS = ['__proto__', 'constructor', 'prototype', '__proto__[site]', 'constructor[prototype][site]', 'site[]', 'site[0]', 'path[]', 'toString', 'hasOwnProperty', 'valueOf', 'utm_source', 'x', ''];
const VALID_EVENTS = ['pageview', 'pageview', 'pageview', 'signup', 'download', 'outbound:click', 'a.b-c_d', 'X'.repeat(64)];
const VALID_REFERRERS = ['', 'https://news.ycombinator.com/item?id=1', 'https://www.google.com/', "http://evil.example/'\";--", 'https://例え.jp/パス', 'https://t.co/abc'];
const UNKNOWN_SITES = ['evil.example', '*', 'example.com.', 'example.com.evil', 'a'.repeat(300), 'example.com\u0000', '{example.com}', 'example.com:80', '../example.com', 'exa mple.com', 'example.co', 'shop.example.org.evil'];

type Field = 'site' | 'path' | 'url' | 'ref' | 'event' | 'uid' | 'allow_bots';
/** A value of one field as JSON text (so that any type and duplicated keys can be sent). */
type Fields = Array<[string, string]>;

/** Ways to make an event rejected whatever else it holds; `pixel`: expressible as query strings. */
const POISONS: Array<{ pixel: boolean; fields: (rng: Rng) => Array<[Field, unknown]> }> = [
  { pixel: true, fields: (rng) => [['site', rng.pick(UNKNOWN_SITES)]] },
  { pixel: true, fields: () => [['site', '']] },
  { pixel: true, fields: (rng) => [['site', validSite(rng)], ['path', rng.pick(['relative', 'no-slash/x', '/a\u0000b', '/a\r\nSet-Cookie: x=1', '/a\tb', '/\u0085', '/\u2028', '/' + 'a'.repeat(1_025), ' /lead'])]] },
  { pixel: true, fields: (rng) => [['site', validSite(rng)], ['path', '/ok'], ['event', rng.pick(['sign up', 'señal', 'visit', 'engaged_visit', 'x'.repeat(65), "x';--", '{tag}'])]] },
  { pixel: true, fields: (rng) => [['site', validSite(rng)], ['path', '/ok'], ['uid', rng.pick(['a\nb', '', 'u'.repeat(129)])]] },
  { pixel: true, fields: (rng) => [['site', validSite(rng)], ['path', '/ok'], ['ref', rng.pick(['not a url', 'https://a.com/\r\nX: y', 'https://a.com/' + 'r'.repeat(2_040), 'mailto:'])]] },
  { pixel: true, fields: (rng) => [['site', validSite(rng)], ['url', rng.pick(['javascript:alert(1)', 'ftp://example.com/x', 'https://example.com/' + 'u'.repeat(4_080), 'data:text/html,x'])]] },
  { pixel: true, fields: (rng) => [['site', validSite(rng)], ['path', `/x?utm_source=${'s'.repeat(rng.int(257, 400))}`]] },
  { pixel: false, fields: (rng) => [rng.pick<[Field, unknown]>([['site', 5], ['site', ['example.com']], ['site', { $ne: '' }]])] },
  { pixel: false, fields: (rng) => [['site', validSite(rng)], rng.pick<[Field, unknown]>([['path', ['/a', '/b']], ['path', { $gt: '' }], ['path', 7], ['event', {}], ['uid', 1], ['allow_bots', 'yes'], ['allow_bots', 1], ['ref', []]])] },
  { pixel: false, fields: (rng) => [['site', validSite(rng)], ['path', rng.pick(['/\ud800', '/a\udfff', '/\udc00\ud800'])]] },
];

export function validSite(rng: Rng): string {
  const site = rng.pick(FUZZ_SITES);
  return rng.chance(0.2) ? site.toUpperCase() : site;
}

function validPath(rng: Rng): string {
  const segments = Array.from({ length: rng.int(0, 4) }, () => (rng.chance(0.5) ? rng.pick(VALID_SEGMENTS) : rng.word(1, 20)));
  let path = '/' + segments.join('/');
  if (rng.chance(0.2)) path += `?utm_source=${rng.word(1, 10)}&utm_campaign=${rng.word(1, 10)}&x=${rng.word(0, 5)}`;
  if (rng.chance(0.1)) path += '#frag';
  return path;
}

/** A valid event as fields in send order; `allowBots` adds `allow_bots: true` (beacon only). */
function validFields(rng: Rng, allowBots: boolean): Array<[Field, unknown]> {
  const fields: Array<[Field, unknown]> = [['site', validSite(rng)]];
  if (rng.chance(0.15)) fields.push(['url', `https://${FUZZ_SITES[0]}/${rng.word(1, 12)}?utm_medium=${rng.word(1, 6)}`]);
  else fields.push(['path', validPath(rng)]);
  if (rng.chance(0.5)) fields.push(['ref', rng.pick(VALID_REFERRERS)]);
  if (rng.chance(0.6)) fields.push(['event', rng.pick(VALID_EVENTS)]);
  if (rng.chance(0.3)) fields.push(['uid', rng.pick([rng.word(1, 128), '__proto__', 'constructor', 'ünï-😀'])]);
  if (allowBots) fields.push(['allow_bots', true]);
  return rng.shuffle(fields);
}

// --- the pixel ---

function queryPair(key: string, value: string, rng: Rng): string {
  if (rng.chance(0.7)) return new URLSearchParams([[key, value]]).toString();
  // Raw: percent signs, brackets and plus signs as they come (fetch encodes what a URL cannot hold).
  return `${key}=${value.replace(/[#&\s]/g, (c) => encodeURIComponent(c))}`;
}

/** Junk parameters after the decisive ones: other keys, and duplicates of `present` fields (the first occurrence wins). */
function junkPairs(rng: Rng, count: number, present: readonly string[]): string[] {
  return Array.from({ length: count }, () => {
    const key = rng.chance(0.7) || present.length === 0 ? rng.pick(JUNK_KEYS) : rng.pick(present);
    const value = rng.chance(0.8) ? rng.pick(JUNK_VALUES) : rng.units(20);
    return queryPair(key, value.slice(0, 400), rng);
  });
}

/**
 * `GET /p.gif` (or HEAD). The first occurrence of each field decides (URLSearchParams.get), so
 * the fields that make it valid or poisoned come first and duplicates and junk after them.
 */
export function pixelRequest(rng: Rng, valid: boolean): FuzzRequest {
  const bot = rng.chance(0.15);
  const userAgent = bot ? rng.pick(BOT_USER_AGENTS) : rng.pick(BROWSER_USER_AGENTS);
  const fields = valid ? validFields(rng, false) : rng.pick(POISONS.filter((p) => p.pixel)).fields(rng);
  const first = fields.map(([k, v]) => new URLSearchParams([[k, String(v)]]).toString());
  const query = [...first, ...junkPairs(rng, rng.int(0, 6), fields.map(([k]) => k))].join('&');
  const method = rng.chance(0.1) ? 'HEAD' : 'GET';
  // The limit is on the query as sent: fetch percent-encodes what the raw pairs left as is.
  const tooLong = Buffer.byteLength(new URL(`http://tracker/p.gif?${query}`).search.slice(1)) > 8_192;
  return {
    kind: `pixel ${valid ? 'valid' : 'poisoned'}${bot ? ' bot' : ''}`,
    transport: { fetch: { method, path: `/p.gif?${query}`, headers: { 'user-agent': userAgent, 'x-forwarded-for': forwardedFor(rng) } } },
    expectedAccepted: valid && !bot && !tooLong ? 1 : 0,
  };
}

// --- the beacon ---

function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/**
 * An event object as JSON text, with junk members (prototype names, deep nesting) and junk
 * duplicates of its fields before the decisive members: JSON.parse keeps the last of
 * duplicated keys, so the fields given decide.
 */
function eventJson(rng: Rng, fields: Array<[Field, unknown]>): string {
  const before: Fields = [];
  for (let i = rng.int(0, 3); i > 0; i--) {
    const key = rng.pick(['__proto__', 'constructor', 'prototype', 'x', 'deep', 'toJSON']);
    const depth = rng.int(100, 3_000);
    before.push([key, key === 'deep' ? '['.repeat(depth) + ']'.repeat(depth) : rng.pick(['{"site":"example.com","path":"/proto"}', '{"prototype":{"allow_bots":true}}', json(rng.pick(JUNK_VALUES)), '1', 'null'])]);
  }
  for (const [field] of fields) if (rng.chance(0.1)) before.push([field, json(rng.pick(JUNK_VALUES))]);
  const members = [...rng.shuffle(before), ...fields.map(([field, value]): [string, string] => [field, json(value)])];
  return `{${members.map(([key, value]) => `${json(key)}:${value}`).join(',')}}`;
}

const CONTENT_TYPES = [
  { type: 'text/plain', ok: true },
  { type: 'text/plain;charset=UTF-8', ok: true },
  { type: 'application/json', ok: true },
  { type: 'APPLICATION/JSON; charset=utf-8', ok: true },
  { type: 'application/x-www-form-urlencoded', ok: false },
  { type: 'multipart/form-data; boundary=x', ok: false },
  { type: 'application/json5', ok: false },
];

/** A beacon batch: the body and the events it must get counted. */
export function beaconBody(rng: Rng, mix: 'mixed' | 'poisoned', bot: boolean): { body: string; expected: number } {
  const count = rng.chance(0.3) ? 1 : rng.int(1, 20);
  const items: string[] = [];
  let expected = 0;
  for (let i = 0; i < count; i++) {
    const roll = rng.int(0, 9);
    if (mix === 'mixed' && roll < 6) {
      const allowBots = bot && rng.chance(0.5);
      items.push(eventJson(rng, validFields(rng, allowBots)));
      if (!bot || allowBots) expected++;
    } else if (roll === 9) {
      items.push(rng.pick(['1', '"example.com"', 'null', '[]', `[${json({ site: 'example.com', path: '/nested' })}]`, 'true']));
    } else {
      items.push(eventJson(rng, rng.pick(POISONS).fields(rng)));
    }
  }
  const single = count === 1 && items[0]!.startsWith('{') && rng.chance(0.5);
  return { body: single ? items[0]! : `[${items.join(',')}]`, expected };
}

export function beaconRequest(rng: Rng, mix: 'mixed' | 'poisoned'): FuzzRequest {
  const bot = rng.chance(0.15);
  const contentType = rng.pick(CONTENT_TYPES);
  const { body, expected: counted } = beaconBody(rng, mix, bot);
  let expected = counted;
  // Bodies nobody can read (cut JSON, invalid UTF-8: a CESU-8 surrogate, over 100 items,
  // unbalanced deep brackets), and one that reads fine (a BOM, which the UTF-8 decoder drops).
  let raw: string | Buffer = body;
  const mangle = rng.int(0, 19);
  if (mangle === 0) raw = body.slice(0, rng.int(0, body.length - 1));
  else if (mangle === 1) raw = Buffer.concat([Buffer.from(body.slice(0, -1)), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(body.slice(-1))]);
  else if (mangle === 2) raw = `[${'1,'.repeat(rng.int(100, 30_000))}${body}]`;
  else if (mangle === 3) raw = '['.repeat(rng.int(1_000, 30_000)) + ']'.repeat(rng.int(0, 30_000));
  else if (mangle === 4) raw = '\ufeff' + body;
  if (mangle <= 3 || !contentType.ok || Buffer.byteLength(raw) > 65_536) expected = 0;
  return {
    kind: `beacon ${mix}${bot ? ' bot' : ''}${mangle <= 4 ? ` mangled#${mangle}` : ''}${contentType.ok ? '' : ' bad-type'}`,
    transport: { fetch: { method: 'POST', path: '/e', headers: { 'content-type': contentType.type, 'user-agent': bot ? rng.pick(BOT_USER_AGENTS) : rng.pick(BROWSER_USER_AGENTS), 'x-forwarded-for': forwardedFor(rng) }, body: raw } },
    expectedAccepted: expected,
  };
}

function forwardedFor(rng: Rng): string {
  const entries = Array.from({ length: rng.int(1, 4) }, () =>
    rng.pick([
      () => `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      () => `2001:db8::${rng.int(1, 0xffff).toString(16)}`,
      () => `::ffff:198.51.100.${rng.int(1, 254)}`,
      () => rng.pick(['unknown', '', ' ', '_hidden', '999.1.1.1', '[::1]:80']),
    ])(),
  );
  return entries.join(rng.chance(0.5) ? ', ' : ',');
}

// --- the dashboard and other routes ---

/** Requests that check no token and never write: no credentials at all. */
export function anonymousRequest(rng: Rng): FuzzRequest {
  const path = rng.pick([
    '/dashboard',
    `/api/live?site=${encodeURIComponent(rng.pick([...FUZZ_SITES, ...UNKNOWN_SITES]))}`,
    `/api/history?${new URLSearchParams({ site: 'example.com', from: rng.pick(JUNK_VALUES).slice(0, 50) })}`,
    `/api/history?${new URLSearchParams({ site: 'example.com', range: rng.pick(JUNK_VALUES).slice(0, 50) })}`,
    `/api/export?${new URLSearchParams({ site: 'example.com', query: rng.pick(['top-pages', ...JUNK_VALUES]).slice(0, 50), limit: rng.pick(JUNK_VALUES).slice(0, 20) })}`,
    '/t.js',
    '/dashboard/app.js',
    '/healthz',
    '/metrics',
    '/nope',
    '/p.gif/../dashboard',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/api/live/../../p.gif',
    '//dashboard',
  ]);
  const method = rng.pick(['GET', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH']);
  return {
    kind: `anonymous ${method} ${path.split('?')[0]}`,
    transport: { fetch: { method, path, headers: { 'x-forwarded-for': forwardedFor(rng), 'if-none-match': rng.pick(['*', '"x"', 'W/"junk"', '']), origin: 'https://evil.example' } } },
    expectedAccepted: 0,
  };
}

/** Requests that present a token (mostly wrong ones): they write attempt counts, so only in the mixed part. */
export function credentialRequest(rng: Rng, addresses: readonly string[]): FuzzRequest {
  const token = rng.pick([FUZZ_TOKEN, FUZZ_TOKEN + 'x', 'wrong-token-wrong-token', '', ' ', rng.word(1, 300), 'Bearer', FUZZ_TOKEN.toUpperCase()]);
  const headers: Record<string, string> = { 'x-forwarded-for': rng.pick(addresses) };
  const how = rng.int(0, 3);
  let method = 'GET';
  let body: string | undefined;
  // History queries the warehouse (seconds on a busy machine, not a hostile case): only ranges refused before that.
  let path = rng.pick(['/dashboard', '/api/live?site=example.com', '/api/history?site=example.com&from=2026-01-01&to=2025-01-01', '/api/history?site=shop.example.org&from=yesterday', '/api/live?site=evil.example']);
  if (how === 0) headers.authorization = `Bearer ${token}`;
  else if (how === 1) headers.authorization = rng.pick([`Basic ${token}`, `bearer  ${token} `, `Bearer ${token} extra`, token]);
  else if (how === 2) headers.cookie = rng.pick([`rta_dashboard=${rng.word(0, 60)}`, 'rta_dashboard=', 'rta_dashboard=%00', `a=b; rta_dashboard=${rng.word(43, 43)}`, '__proto__=x']);
  else {
    method = 'POST';
    path = '/dashboard/login';
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = rng.pick([`token=${encodeURIComponent(token)}`, 'token=', '__proto__[token]=x', `token=${'t'.repeat(5_000)}`, 'token=a&token=b', rng.units(50)]);
  }
  return { kind: `credential ${method} ${path.split('?')[0]}`, transport: { fetch: { method, path, headers, body } }, expectedAccepted: 0 };
}

// --- raw sockets ---

const CRLF = '\r\n';
const host = `Host: tracker${CRLF}`;

function rawOf(text: string | Buffer, extra: Partial<RawExchange> = {}): { raw: RawExchange } {
  return { raw: { pieces: [typeof text === 'string' ? Buffer.from(text, 'latin1') : text], ...extra } };
}

/** Splits a request into pieces sent with pauses: a slow client (whole run ≤ about 1 s). */
export function slowly(request: Buffer, rng: Rng): RawExchange {
  const cuts = Array.from({ length: rng.int(2, 12) }, () => rng.int(1, request.length - 1)).sort((a, b) => a - b);
  const pieces = [0, ...cuts, request.length].slice(1).map((end, i, ends) => request.subarray(i === 0 ? 0 : ends[i - 1], end)).filter((p) => p.length > 0);
  return { pieces, gapMs: rng.int(5, 80) };
}

/** A chunked body, with chunk extensions, upper-case sizes and trailers now and then. */
function chunked(body: Buffer, rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const size = Math.min(body.length - at, rng.int(1, 200));
    let line = size.toString(16);
    if (rng.chance(0.2)) line = line.toUpperCase();
    if (rng.chance(0.1)) line += ';ext=1';
    parts.push(Buffer.from(line + CRLF), body.subarray(at, at + size), Buffer.from(CRLF));
    at += size;
  }
  parts.push(Buffer.from(`0${CRLF}${rng.chance(0.1) ? `X-Trailer: t${CRLF}` : ''}${CRLF}`));
  return Buffer.concat(parts);
}

function postBeacon(body: Buffer, headers: string, rng: Rng, asChunks: boolean): Buffer {
  const ua = `User-Agent: ${rng.pick(BROWSER_USER_AGENTS)}${CRLF}`;
  const framing = asChunks ? `Transfer-Encoding: chunked${CRLF}` : `Content-Length: ${body.length}${CRLF}`;
  return Buffer.concat([Buffer.from(`POST /e HTTP/1.1${CRLF}${host}${ua}Content-Type: text/plain${CRLF}${framing}${headers}${CRLF}`, 'latin1'), asChunks ? chunked(body, rng) : body]);
}

/** A beacon over a raw socket: chunked or not, slow or not; browser user agents only. */
export function rawBeaconRequest(rng: Rng, mix: 'mixed' | 'poisoned'): FuzzRequest {
  const { body, expected } = beaconBody(rng, mix, false);
  const bytes = Buffer.from(body);
  const asChunks = rng.chance(0.6);
  const request = postBeacon(bytes, rng.chance(0.2) ? `Expect: 100-continue${CRLF}` : '', rng, asChunks);
  const slow = rng.chance(0.05);
  return {
    kind: `raw beacon ${mix}${asChunks ? ' chunked' : ''}${slow ? ' slow' : ''}`,
    transport: { raw: slow ? slowly(request, rng) : { pieces: [request] } },
    expectedAccepted: bytes.length > 65_536 ? 0 : expected,
  };
}

/** Requests the client gives up on half-way: nothing may be counted and nothing logged above debug. */
export function abortedRequest(rng: Rng): FuzzRequest {
  const body = Buffer.from(json([{ site: 'example.com', path: '/aborted' }]));
  const full = postBeacon(body, '', rng, rng.chance(0.5));
  const cut = rng.pick([
    () => full.subarray(0, rng.int(1, full.indexOf('\r\n\r\n'))), // inside the headers
    () => full.subarray(0, full.length - rng.int(1, Math.min(20, body.length))), // inside the body
    () => Buffer.from(`POST /e HTTP/1.1${CRLF}${host}Content-Length: 100${CRLF}${CRLF}${'x'.repeat(20)}`), // shorter than declared
  ])();
  return { kind: 'aborted', transport: { raw: { pieces: [cut], abort: true } }, expectedAccepted: 0 };
}

const POISONED_QUERY = 'site=evil.example&path=/';

/** Malformed HTTP: request lines, headers, framing, bytes; all with nothing countable in them. */
export function malformedRequest(rng: Rng): FuzzRequest {
  const poisonedBody = Buffer.from(json({ site: 'evil.example', path: '/x' }));
  const templates: Array<() => [string, { raw: RawExchange }]> = [
    () => ['random bytes', rawOf(Buffer.concat([Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255))), Buffer.from(CRLF + CRLF)]))],
    () => {
      const method = rng.pick(['GET', 'get', 'G ET', 'PUT', 'DELETE', 'TRACE', 'PATCH', 'PRI', '\u0000GET', 'GETT', 'POST', 'OPTIONS']);
      const target = rng.pick([`/p.gif?${POISONED_QUERY}`, '*', `http://evil.example/p.gif?${POISONED_QUERY}`, '//p.gif', `/p.gif?${POISONED_QUERY}&${'a'.repeat(rng.int(1, 20_000))}`, '/%00', '/../../etc/passwd', '/p.gif?site=evil.example&path=/\u00ff\u00fe', '/e', '/dashboard', 'p.gif', '']);
      const version = rng.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', 'HTTP/1.', 'http/1.1', '', 'HTTP/1.1\u0000']);
      return [`request line ${method} ${version}`, rawOf(`${method} ${target} ${version}${CRLF}${host}Content-Length: 0${CRLF}${CRLF}`)];
    },
    () => {
      const header = rng.pick([
        `Content-Length: 5${CRLF}Content-Length: 6${CRLF}`,
        `Content-Length: ${poisonedBody.length}${CRLF}Transfer-Encoding: chunked${CRLF}`,
        `Transfer-Encoding: chunked, identity${CRLF}`,
        `Transfer-Encoding: xchunked${CRLF}`,
        `No-Colon-Header${CRLF}`,
        `Bad Name: x${CRLF}`,
        `X-Bad: a\rb${CRLF}`,
        `X-Nul: a\u0000b${CRLF}`,
        `X-Folded: a${CRLF} folded${CRLF}`,
        `X-Big: ${'b'.repeat(20_000)}${CRLF}`,
        Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v${CRLF}`).join(''),
        `Host: second${CRLF}`,
        `Content-Length: -1${CRLF}`,
        `Content-Length: 1e3${CRLF}`,
        `Content-Length: 99999999999999999999${CRLF}`,
        `X-Forwarded-For: ${'1.1.1.1, '.repeat(2_000)}${CRLF}`,
      ]);
      const noHost = rng.chance(0.2);
      return [`headers ${header.slice(0, 20)}`, rawOf(`POST /e HTTP/1.1${CRLF}${noHost ? '' : host}${header}${CRLF}${poisonedBody.toString('latin1')}`)];
    },
    () => {
      const broken = rng.pick([`zz${CRLF}abc${CRLF}0${CRLF}${CRLF}`, `-5${CRLF}abcde${CRLF}0${CRLF}${CRLF}`, `5 ${CRLF}ab${CRLF}`, `3${CRLF}abcd${CRLF}0${CRLF}${CRLF}`, `0x5${CRLF}abcde${CRLF}0${CRLF}${CRLF}`]);
      return ['broken chunks', rawOf(`POST /e HTTP/1.1${CRLF}${host}Transfer-Encoding: chunked${CRLF}${CRLF}${broken}`)];
    },
    () => {
      // Raw non-ASCII and invalid UTF-8 bytes where text is expected: a CESU-8 lone surrogate, 0xff.
      const bytes = Buffer.concat([Buffer.from('{"site":"evil.example","path":"/'), Buffer.from(rng.pick([[0xed, 0xa0, 0x80], [0xff], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]])), Buffer.from('"}')]);
      return ['invalid UTF-8 body', rawOf(postBeacon(bytes, '', rng, rng.chance(0.5)))];
    },
    () => ['invalid UTF-8 query', rawOf(Buffer.concat([Buffer.from(`GET /p.gif?${POISONED_QUERY}`), Buffer.from(rng.pick([[0xed, 0xa0, 0x80], [0xff], [0x25, 0xed]])), Buffer.from(` HTTP/1.1${CRLF}${host}${CRLF}`)]))],
    () => ['chunked poisoned beacon', rawOf(postBeacon(poisonedBody, '', rng, true))],
  ];
  const [kind, transport] = rng.pick(templates)();
  if (rng.chance(0.05)) transport.raw = slowly(Buffer.concat(transport.raw.pieces), rng);
  return { kind: `malformed ${kind}`, transport, expectedAccepted: 0 };
}
