import { DIMENSIONS, OTHER, PAGEVIEW_EVENT, minuteId, minuteOf, type AnalyticsKeys, type BucketKeys } from './keys.js';
import { LIVE_MINUTE_KINDS, liveRetentionSeconds } from './live-options.js';
import type { EventWrite } from './write-batcher.js';

// 1-based dimension numbers of the script (total is 1).
const PAGE = DIMENSIONS.indexOf('page') + 1;
const REFERRER = DIMENSIONS.indexOf('referrer') + 1;
const DEVICE = DIMENSIONS.indexOf('device') + 1;
const UTM_SOURCE = DIMENSIONS.indexOf('utm_source') + 1;
const UTM_MEDIUM = DIMENSIONS.indexOf('utm_medium') + 1;
const UTM_CAMPAIGN = DIMENSIONS.indexOf('utm_campaign') + 1;
/** The script's live sorted sets, by their offset from the live counts key. */
const SET_PAGES = 3;
const SET_REFERRERS = 4;
const SET_EVENTS = 5;


/** How long a call marker outlives its call: longer than any retry of the call. */
export const CALL_MARKER_SECONDS = 120;

export interface SiteCallOptions {
  maxValuesPerDimension: number;
  /** Sessions and the live view; absent = counters only. */
  live?: {
    sessionIdleMinutes: number;
    /** Members per live sorted set and minute. */
    cap: number;
    /** Sessions a site may create per session window (the idle time). */
    sessionCap: number;
  };
}

/** What one call needs besides the events: names and per-call values. */
export interface SiteCallContext {
  keys: AnalyticsKeys;
  /** The generation the caller believes current for a minute (start, ms). */
  generation(minute: number): number;
  /** Page digest (memoised by the caller). */
  digest(page: string): string;
  /** Random per call (its marker) and per generation the call may create. */
  callId: string;
  token: string;
}

/**
 * KEYS and ARGV of one track-site-n.lua call for events of one site, in arrival order, with
 * every key the script may touch declared. Identical counters are summed here, so Redis sees
 * one HINCRBY per distinct counter.
 */
export function siteCall(
  site: string,
  events: readonly EventWrite[],
  options: SiteCallOptions,
  context: SiteCallContext,
): { keys: string[]; args: Array<string | number>; minutes: number[] } {
  const siteKeys = context.keys.site(site);
  const live = siteKeys.live;
  const byMinute = new Map<number, EventWrite[]>();
  for (const e of events) {
    const minute = minuteOf(e.receivedAt);
    const list = byMinute.get(minute);
    if (list) list.push(e);
    else byMinute.set(minute, [e]);
  }
  const keys: string[] = [siteKeys.pending, live.call(context.callId)];
  const bucketArgs: Array<string | number> = [];
  const minutes = [...byMinute.keys()];
  const bucketIndex = new Map<number, number>();
  minutes.forEach((minute, i) => {
    bucketIndex.set(minute, i + 1);
    const generation = context.generation(minute);
    const bucket = context.keys.bucket({ site, minute });
    const k = keys.length + 1;
    keys.push(bucket.generation, ...bucketDataKeys(bucket, generation, context.digest(OTHER)));
    const l = options.live ? keys.length + 1 : 0;
    if (options.live) for (const kind of LIVE_MINUTE_KINDS) keys.push(live.minute(kind, minute));
    bucketArgs.push(...bucketPart(minute, byMinute.get(minute)!, { generation, k, l, bucket, keys, digest: context.digest, live: !!options.live }));
  });

  let liveArgs: Array<string | number> = [0, 0, 0, 0];
  const sessionArgs: Array<string | number> = [];
  let sessions = 0;
  if (options.live) {
    const idle = options.live.sessionIdleMinutes;
    const window = Math.floor(minutes[minutes.length - 1]! / (idle * 60_000));
    const g = keys.length + 1;
    keys.push(live.sessionsCreated(window), live.sessionsCreated(window - 1), live.cappedVisitors(window));
    liveArgs = [idle * 60, options.live.cap, options.live.sessionCap, g];
    const visitors = new Map<string, { bucket: number; entry: string; hits: number }>();
    for (const e of events) {
      const visitor = visitors.get(e.visitorId);
      if (visitor) visitor.hits++;
      else visitors.set(e.visitorId, { bucket: bucketIndex.get(minuteOf(e.receivedAt))!, entry: e.path, hits: 1 });
    }
    for (const [id, v] of visitors) {
      keys.push(live.session(id));
      sessionArgs.push(keys.length, v.bucket, v.entry, v.hits);
      sessions++;
    }
  }
  const ttl = options.live ? LIVE_MINUTE_KINDS.map((kind) => liveRetentionSeconds(kind, options.live!.sessionIdleMinutes)) : [0, 0, 0, 0, 0];
  const args: Array<string | number> = [
    options.maxValuesPerDimension,
    context.token,
    CALL_MARKER_SECONDS,
    minutes.length,
    options.live ? 1 : 0,
    ...liveArgs,
    ...ttl,
    sessions,
    ...bucketArgs,
    ...sessionArgs,
  ];
  return { keys, args, minutes };
}

/** The generation's keys in the order the script takes them after the generation key (k+1 … k+12). */
function bucketDataKeys(bucket: BucketKeys, generation: number, otherDigest: string): string[] {
  return [
    bucket.eventCount(generation),
    ...DIMENSIONS.map((d) => bucket.counter(d, generation)),
    bucket.engagedEarlier(generation),
    bucket.siteHll(generation),
    bucket.pageHll(otherDigest, generation),
  ];
}

interface EventGroup {
  /** 1-based position among the bucket's event names. */
  index: number;
  count: number;
  /** Per dimension number 2..7, value → count. */
  values: Map<number, Map<string, number>>;
  /** Page → the visitor ids seen on it. */
  pages: Map<string, string[]>;
}

/** A bucket's header and sections of ARGV (see the script); pushes its page HyperLogLog keys. */
function bucketPart(
  minute: number,
  events: readonly EventWrite[],
  at: { generation: number; k: number; l: number; bucket: BucketKeys; keys: string[]; digest: (page: string) => string; live: boolean },
): Array<string | number> {
  // Nested maps keyed by the events' own strings: a string hashes once and is looked up many
  // times, where composite keys would build and hash a new string per event and dimension.
  const groups = new Map<string, EventGroup>();
  const visitors = new Set<string>();
  const sets = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  let pageviews = 0;
  for (const e of events) {
    let g = groups.get(e.event);
    if (!g) {
      g = { index: groups.size + 1, count: 0, values: new Map([[PAGE, new Map()], [REFERRER, new Map()], [DEVICE, new Map()], [UTM_SOURCE, new Map()], [UTM_MEDIUM, new Map()], [UTM_CAMPAIGN, new Map()]]), pages: new Map() };
      groups.set(e.event, g);
    }
    g.count++;
    add(g.values.get(PAGE)!, e.path);
    add(g.values.get(REFERRER)!, e.referrer);
    add(g.values.get(DEVICE)!, e.device);
    add(g.values.get(UTM_SOURCE)!, e.utmSource);
    add(g.values.get(UTM_MEDIUM)!, e.utmMedium);
    add(g.values.get(UTM_CAMPAIGN)!, e.utmCampaign);
    const ids = g.pages.get(e.path);
    if (ids) ids.push(e.visitorId);
    else g.pages.set(e.path, [e.visitorId]);
    visitors.add(e.visitorId);
    if (!at.live) continue;
    if (e.event === PAGEVIEW_EVENT) {
      pageviews++;
      add(sets[0]!, e.path);
      add(sets[1]!, e.referrer);
    } else {
      add(sets[2]!, e.event);
    }
  }
  const names: Array<string | number> = [];
  const counters: Array<string | number> = [];
  const pages: Array<string | number> = [];
  const pageKeys = new Map<string, number>();
  let counterCount = 0;
  let pageGroups = 0;
  for (const [name, g] of groups) {
    names.push(name, g.count);
    for (const [dimension, values] of g.values) {
      for (const [value, n] of values) {
        counters.push(g.index, dimension, value, n);
        counterCount++;
      }
    }
    for (const [page, ids] of g.pages) {
      let key = pageKeys.get(page);
      if (key === undefined) {
        at.keys.push(at.bucket.pageHll(at.digest(page), at.generation));
        pageKeys.set(page, (key = at.keys.length));
      }
      pages.push(g.index, page, key, ids.length, ...ids);
      pageGroups++;
    }
  }
  const members: Array<string | number> = [];
  let memberCount = 0;
  [SET_PAGES, SET_REFERRERS, SET_EVENTS].forEach((set, i) => {
    for (const [member, n] of sets[i]!) {
      members.push(set, member, n);
      memberCount++;
    }
  });
  return [
    minuteId(minute),
    minute / 1_000,
    at.generation,
    at.k,
    at.l,
    events.length,
    pageviews,
    groups.size,
    counterCount,
    pageGroups,
    visitors.size,
    memberCount,
    ...names,
    ...counters,
    ...pages,
    ...visitors,
    ...members,
  ];
}

function add(values: Map<string, number>, value: string | undefined): void {
  if (value) values.set(value, (values.get(value) ?? 0) + 1);
}


