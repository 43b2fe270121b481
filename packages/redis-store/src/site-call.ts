import { DIMENSIONS, LIVE_MINUTE_KEYS, OTHER, PAGEVIEW_EVENT, minuteId, minuteOf, type LiveMinuteKey, type SiteKeys } from './keys.js';
import { liveRetentionSeconds } from './live-options.js';
import type { EventWrite } from './write-batcher.js';

// 0-based DIMENSIONS positions; the script numbers dimensions from 1.
const PAGE = DIMENSIONS.indexOf('page');
const REFERRER = DIMENSIONS.indexOf('referrer');
const DEVICE = DIMENSIONS.indexOf('device');
const UTM_SOURCE = DIMENSIONS.indexOf('utm_source');
const UTM_MEDIUM = DIMENSIONS.indexOf('utm_medium');
const UTM_CAMPAIGN = DIMENSIONS.indexOf('utm_campaign');

const MINUTE_KINDS = Object.keys(LIVE_MINUTE_KEYS) as LiveMinuteKey[];
/** The script's set numbers (3|4|5) of pages, referrers and custom events. */
const SET_INDEXES = [3, 4, 5] as const;
/** ARGV[5..17] of track-site-n.lua: the names it builds keys from, in the order it numbers them. */
const NAMES: readonly string[] = [...DIMENSIONS, ...MINUTE_KINDS.map((kind) => LIVE_MINUTE_KEYS[kind].suffix)];

export interface SiteCallOptions {
  maxValuesPerDimension: number;
  /** Sessions and the live view; absent = counters only. */
  live?: { sessionIdleMinutes: number; cap: number };
}

/**
 * KEYS and ARGV of one track-site-n.lua call for events of one site, in arrival order.
 * Identical counters are summed here, so Redis sees one HINCRBY per distinct counter.
 */
export function siteCall(
  site: SiteKeys,
  events: readonly EventWrite[],
  options: SiteCallOptions,
  digest: (page: string) => string,
): { keys: string[]; args: Array<string | number> } {
  const buckets = new Map<number, EventWrite[]>();
  for (const e of events) {
    const minute = minuteOf(e.receivedAt);
    const list = buckets.get(minute);
    if (list) list.push(e);
    else buckets.set(minute, [e]);
  }
  const payload = {
    b: [...buckets].map(([minute, list]) => bucketPart(minute, list, digest)),
    l: options.live && livePart(site, events, options.live),
  };
  return { keys: [site.pending], args: [site.tag, options.maxValuesPerDimension, digest(OTHER), JSON.stringify(payload), ...NAMES] };
}

/** A bucket's entry of the payload (see the script's `b`). */
function bucketPart(minute: number, events: readonly EventWrite[], digest: (page: string) => string): unknown[] {
  // Nested maps keyed by the events' own strings: a string hashes once and is looked up many
  // times, where composite keys would build and hash a new string per event and dimension.
  const groups = new Map<string, EventGroup>();
  for (const e of events) {
    let g = groups.get(e.event);
    if (!g) groups.set(e.event, (g = { index: groups.size + 1, count: 0, values: DIMENSIONS.map(() => new Map()), pages: new Map() }));
    g.count++;
    add(g.values[PAGE]!, e.path);
    add(g.values[REFERRER]!, e.referrer);
    add(g.values[DEVICE]!, e.device);
    add(g.values[UTM_SOURCE]!, e.utmSource);
    add(g.values[UTM_MEDIUM]!, e.utmMedium);
    add(g.values[UTM_CAMPAIGN]!, e.utmCampaign);
    const ids = g.pages.get(e.path);
    if (ids) ids.push(e.visitorId);
    else g.pages.set(e.path, [e.visitorId]);
  }
  const names: unknown[] = [];
  const counters: unknown[] = [];
  const pages: unknown[] = [];
  for (const [name, g] of groups) {
    names.push([name, g.count]);
    g.values.forEach((values, d) => {
      for (const [value, n] of values) counters.push([g.index, d + 1, value, n]);
    });
    for (const [page, ids] of g.pages) pages.push([g.index, digest(page), page, ids]);
  }
  return [minuteId(minute), events.length, names, counters, pages];
}

interface EventGroup {
  /** 1-based position among the bucket's event names. */
  index: number;
  count: number;
  /** Per dimension (0-based DIMENSIONS index), value → count. */
  values: Array<Map<string, number>>;
  /** Page → the visitor ids seen on it. */
  pages: Map<string, string[]>;
}

/** The live part of the payload (see the script's `l`). */
function livePart(site: SiteKeys, events: readonly EventWrite[], live: { sessionIdleMinutes: number; cap: number }): object {
  const minutes = new Map<number, LiveMinute>();
  const visitors = new Map<string, { minuteIndex: number; entry: string; hits: number }>();
  for (const e of events) {
    const minute = minuteOf(e.receivedAt);
    let m = minutes.get(minute);
    if (!m) minutes.set(minute, (m = { index: minutes.size + 1, pageviews: 0, events: 0, visitors: new Set(), sets: [new Map(), new Map(), new Map()] }));
    m.events++;
    m.visitors.add(e.visitorId);
    if (e.event === PAGEVIEW_EVENT) {
      m.pageviews++;
      add(m.sets[0]!, e.path);
      add(m.sets[1]!, e.referrer);
    } else {
      add(m.sets[2]!, e.event);
    }
    const visitor = visitors.get(e.visitorId);
    if (visitor) visitor.hits++;
    else visitors.set(e.visitorId, { minuteIndex: m.index, entry: e.path, hits: 1 });
  }
  const m: unknown[] = [];
  const z: unknown[] = [];
  for (const [minute, lm] of minutes) {
    m.push([minuteId(minute), minute / 1_000, lm.pageviews, lm.events, [...lm.visitors]]);
    lm.sets.forEach((members, i) => {
      for (const [member, count] of members) z.push([lm.index, SET_INDEXES[i], member, count]);
    });
  }
  const s: unknown[] = [];
  for (const [id, v] of visitors) s.push([site.live.sessionDigest(id), v.minuteIndex, v.entry, v.hits]);
  return {
    cap: live.cap,
    idle: live.sessionIdleMinutes * 60,
    ttl: MINUTE_KINDS.map((kind) => liveRetentionSeconds(kind, live.sessionIdleMinutes)),
    m,
    z,
    s,
  };
}

interface LiveMinute {
  /** 1-based position among the call's minutes. */
  index: number;
  pageviews: number;
  events: number;
  visitors: Set<string>;
  /** Member → count for pages, referrers and custom events (SET_INDEXES order). */
  sets: Array<Map<string, number>>;
}

function add(values: Map<string, number>, value: string | undefined): void {
  if (value) values.set(value, (values.get(value) ?? 0) + 1);
}
