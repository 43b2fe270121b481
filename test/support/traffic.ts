/**
 * Deterministic synthetic traffic with its exact expected counters, for tests that compare
 * warehouse totals with what was sent.
 */
import { combination } from './expected-counts.js';

export const USER_AGENTS = {
  desktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  mobile: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  tablet: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
} as const;
export type DeviceName = keyof typeof USER_AGENTS;
/** What ua-parser-js makes of each user agent: the `browser` and `os` dimensions. */
export const BROWSER_AND_OS: Record<DeviceName, { browser: string; os: string }> = {
  desktop: { browser: 'Chrome 124', os: 'Windows' },
  mobile: { browser: 'Mobile Safari 17', os: 'iOS' },
  tablet: { browser: 'Mobile Safari 17', os: 'iOS' },
};

/**
 * Address blocks of one country each in the bundled geolocation database (every /24 of them
 * checked against the pinned @ip-location-db/geo-whois-asn-country-mmdb), and a private block,
 * which no database places.
 */
const COUNTRY_BLOCKS = [
  { country: '(unknown)', address: (v: number) => `10.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}` },
  { country: 'US', address: (v: number) => `8.8.${(v >> 8) & 255}.${v & 255}` },
  { country: 'DE', address: (v: number) => `217.0.${(v >> 8) & 255}.${v & 255}` },
  { country: 'JP', address: (v: number) => `133.0.${(v >> 8) & 255}.${v & 255}` },
  { country: 'ZA', address: (v: number) => `41.0.${(v >> 8) & 255}.${v & 255}` },
];

const REFERRERS: Array<{ ref: string; host: (site: string) => string }> = [
  { ref: '', host: () => '(direct)' },
  { ref: 'https://news.ycombinator.com/item?id=1', host: () => 'news.ycombinator.com' },
  { ref: 'https://www.google.com/', host: () => 'google.com' },
  { ref: 'https://t.co/abc', host: () => 't.co' },
  { ref: 'SAME', host: () => '(direct)' },
];
const EVENTS = ['pageview', 'pageview', 'pageview', 'pageview', 'signup', 'download', 'outbound:click'];
const CAMPAIGNS = [
  undefined,
  undefined,
  { source: 'newsletter', medium: 'email', campaign: 'spring' },
  { source: 'twitter', medium: 'social', campaign: undefined },
];

export interface Hit {
  minuteIndex: number;
  site: string;
  event: string;
  /** Page path as sent, with utm_* query when the hit has a campaign. */
  sentPath: string;
  path: string;
  ref: string;
  uid?: string;
  ip: string;
  userAgent: string;
  visitorKey: string;
  expected: { referrer: string; device: DeviceName; country: string; utm?: { source?: string; medium?: string; campaign?: string } };
}

export interface TrafficOptions {
  events: number;
  paths: number;
  visitors: number;
  sites: string[];
  minutes: number;
  seed?: number;
}

/** mulberry32: small, fast, deterministic. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function generateTraffic(options: TrafficOptions): Hit[] {
  const rand = random(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const devices = Object.keys(USER_AGENTS) as DeviceName[];
  if (options.visitors > 65_536) throw new Error('generateTraffic: at most 65,536 visitors (one address block per country)');
  const visitors = Array.from({ length: options.visitors }, (_, v) => {
    const block = COUNTRY_BLOCKS[v % COUNTRY_BLOCKS.length]!;
    return { uid: v % 2 === 0 ? `visitor-${v}` : undefined, ip: block.address(v), country: block.country, device: devices[v % devices.length]! };
  });
  const hits: Hit[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < options.events; i++) {
    const v = Math.floor(rand() * visitors.length);
    const visitor = visitors[v]!;
    const site = pick(options.sites);
    const referrer = pick(REFERRERS);
    const campaign = pick(CAMPAIGNS);
    const path = `/page/${Math.floor(rand() * options.paths)}`;
    const query = campaign
      ? '?' + new URLSearchParams(Object.entries({ utm_source: campaign.source, utm_medium: campaign.medium, utm_campaign: campaign.campaign }).filter(([, x]) => x) as [string, string][]).toString()
      : '';
    hits.push({
      minuteIndex: Math.min(options.minutes - 1, Math.floor((i / options.events) * options.minutes)),
      site,
      event: pick(EVENTS),
      sentPath: path + query,
      path,
      ref: referrer.ref === 'SAME' ? `https://${site}/elsewhere` : referrer.ref,
      uid: visitor.uid,
      ip: visitor.ip,
      userAgent: USER_AGENTS[visitor.device],
      visitorKey: `${site}|${visitor.uid ?? visitor.ip}`,
      expected: { referrer: referrer.host(site), device: visitor.device, country: visitor.country, utm: campaign },
    });
    const hit = hits.at(-1)!;
    if (!seen.has(hit.visitorKey)) {
      seen.add(hit.visitorKey);
      isFirstHit.add(hit);
    }
  }
  return hits;
}

/**
 * Expected `visit` and `engaged_visit` counters (dimensions `total` and `entry_page`) of hits
 * that reach the tracker in this order per visitor (see `firstHitsFirst`), all within one
 * session idle time: a visitor's first hit starts its visit (in that hit's minute, on that hit's
 * page), its second makes the visit engaged (counted in the visit's first minute).
 */
export function expectedVisitCounts(
  hits: ReadonlyArray<{ site: string; visitor: string; minute: number; path: string }>,
  add: (key: string) => void,
): void {
  const visits = new Map<string, { minute: number; entry: string; hits: number }>();
  for (const h of hits) {
    const id = `${h.site}|${h.visitor}`;
    let visit = visits.get(id);
    if (!visit) visits.set(id, (visit = { minute: h.minute, entry: h.path, hits: 0 }));
    visit.hits++;
    if (visit.hits > 2) continue;
    const event = visit.hits === 1 ? 'visit' : 'engaged_visit';
    const base = `${new Date(visit.minute).toISOString()}|${h.site}|${event}`;
    add(`${base}|total|`);
    add(`${base}|entry_page|${visit.entry}`);
  }
}

/**
 * Splits hits sent as one group into two waves so that each visitor's first hit (alone, or in the
 * beacon batch it opens) reaches the tracker before any other hit of that visitor: sending wave
 * one, then wave two, makes entry pages deterministic under concurrency.
 */
export function firstHitsFirst<T>(items: readonly T[], hitsOf: (item: T) => readonly Hit[], seen: Set<string>): [T[], T[]] {
  const first: T[] = [];
  const rest: T[] = [];
  for (const item of items) {
    const opener = hitsOf(item)[0]!;
    if (!seen.has(opener.visitorKey) && isFirstHit.has(opener)) first.push(item);
    else rest.push(item);
  }
  for (const item of first) seen.add(hitsOf(item)[0]!.visitorKey);
  return [first, rest];
}

/** Each visitor's first hit in generation order (set by `generateTraffic`). */
const isFirstHit = new WeakSet<Hit>();

/** Expected `event_counts` sums, keyed like `warehouseCounts`, including the visit counters. */
export function expectedCounts(hits: readonly Hit[], minuteStart: (index: number) => number): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  expectedVisitCounts(
    hits.map((h) => ({ site: h.site, visitor: h.visitorKey, minute: minuteStart(h.minuteIndex), path: h.path })),
    add,
  );
  for (const h of hits) {
    const base = `${new Date(minuteStart(h.minuteIndex)).toISOString()}|${h.site}|${h.event}`;
    add(`${base}|total|`);
    add(`${base}|page|${h.path}`);
    add(`${base}|referrer|${h.expected.referrer}`);
    add(`${base}|device|${h.expected.device}`);
    add(`${base}|country|${h.expected.country}`);
    add(`${base}|browser|${BROWSER_AND_OS[h.expected.device].browser}`);
    add(`${base}|os|${BROWSER_AND_OS[h.expected.device].os}`);
    if (h.expected.utm?.source) add(`${base}|utm_source|${h.expected.utm.source}`);
    if (h.expected.utm?.medium) add(`${base}|utm_medium|${h.expected.utm.medium}`);
    if (h.expected.utm?.campaign) add(`${base}|utm_campaign|${h.expected.utm.campaign}`);
    const { browser, os } = BROWSER_AND_OS[h.expected.device];
    const utm = h.expected.utm;
    const combined = { page: h.path, referrer: h.expected.referrer, device: h.expected.device, country: h.expected.country, browser, os };
    add(`${base}|combination|${combination({ ...combined, utm_source: utm?.source, utm_medium: utm?.medium, utm_campaign: utm?.campaign })}`);
  }
  return counts;
}

/** Exact distinct visitors per `minuteISO|site`. */
export function expectedVisitors(hits: readonly Hit[], minuteStart: (index: number) => number): Map<string, number> {
  const sets = new Map<string, Set<string>>();
  for (const h of hits) {
    const key = `${new Date(minuteStart(h.minuteIndex)).toISOString()}|${h.site}`;
    let set = sets.get(key);
    if (!set) sets.set(key, (set = new Set()));
    set.add(h.visitorKey);
  }
  return new Map([...sets].map(([k, s]) => [k, s.size]));
}
