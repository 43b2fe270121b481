import { COMBINATION_MAX_LENGTH, COMBINATION_SEPARATOR, DIMENSIONS, OTHER, PAGEVIEW_EVENT, minuteId, minuteOf, type AnalyticsKeys, type BucketKeys } from './keys.js';
import { LIVE_MINUTE_KINDS, liveRetentionSeconds } from './live-options.js';
import type { EventWrite } from './write-batcher.js';

// 1-based dimension numbers of the script (total is 1).
const PAGE = DIMENSIONS.indexOf('page') + 1;
const REFERRER = DIMENSIONS.indexOf('referrer') + 1;
const DEVICE = DIMENSIONS.indexOf('device') + 1;
const UTM_SOURCE = DIMENSIONS.indexOf('utm_source') + 1;
const UTM_MEDIUM = DIMENSIONS.indexOf('utm_medium') + 1;
const UTM_CAMPAIGN = DIMENSIONS.indexOf('utm_campaign') + 1;
const COUNTRY = DIMENSIONS.indexOf('country') + 1;
const REGION = DIMENSIONS.indexOf('region') + 1;
const CITY = DIMENSIONS.indexOf('city') + 1;
const BROWSER = DIMENSIONS.indexOf('browser') + 1;
const OS = DIMENSIONS.indexOf('os') + 1;
const COMBINATION = DIMENSIONS.indexOf('combination') + 1;
/** The dimensions counted per event besides page (entry_page is the store's, from sessions). */
const EVENT_DIMENSIONS = [REFERRER, DEVICE, UTM_SOURCE, UTM_MEDIUM, UTM_CAMPAIGN, COUNTRY, REGION, CITY, BROWSER, OS];

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
  /** Page digest (memoised by the caller); also names event HyperLogLogs. */
  digest(page: string): string;
  /** The same digest of a `combination` value (a custom event's: of its whole field). */
  combinationDigest(value: string): string;
  /** Unique per call (its marker) and per generation the call may create (its token). */
  callId: string;
  token: string;
  /** Declare the earlier version's session key of each visitor (see "Upgrade" in the script). */
  earlierSessions?: boolean;
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
  let newest = 0;
  for (const e of events) {
    if (e.receivedAt > newest) newest = e.receivedAt;
    const minute = minuteOf(e.receivedAt);
    const list = byMinute.get(minute);
    if (list) list.push(e);
    else byMinute.set(minute, [e]);
  }
  const keys: string[] = [siteKeys.pending, live.call(context.callId)];
  const bucketArgs: Array<string | number> = [];
  const minutes = [...byMinute.keys()];
  const bucketIndex = new Map<number, number>();
  const visitorsFromSessions = !!options.live && byMinute.size === 1;
  minutes.forEach((minute, i) => {
    bucketIndex.set(minute, i + 1);
    const generation = context.generation(minute);
    const bucket = context.keys.bucket({ site, minute });
    const k = keys.length + 1;
    keys.push(bucket.generation, ...bucketDataKeys(bucket, generation, context.digest(OTHER)));
    const part = bucketPart(minute, byMinute.get(minute)!, { generation, k, bucket, keys, digest: context.digest, combinationDigest: context.combinationDigest, visitorsFromSessions });
    if (options.live) {
      part[4] = keys.length + 1; // the live offset l
      for (const kind of LIVE_MINUTE_KINDS) keys.push(live.minute(kind, minute));
    }
    for (const arg of part) bucketArgs.push(arg);
  });

  let liveArgs: Array<string | number> = [0, 0, 0, 0];
  const sessionArgs: Array<string | number> = [];
  let sessions = 0;
  const earlier = !!(options.live && context.earlierSessions);
  if (options.live) {
    const idle = options.live.sessionIdleMinutes;
    // The window of the newest event: its time is the call's time (ARGV 16), which the script
    // checks sessions against, so the two always agree.
    const window = Math.floor(newest / (idle * 60_000));
    const g = keys.length + 1;
    keys.push(
      live.sessionsCreated(window),
      live.sessionsCreated(window - 1),
      live.cappedVisitors(window),
      live.sessions(window),
      live.sessions(window - 1),
      live.sessions(window - 2),
      live.sessionsMovedAt,
    );
    liveArgs = [idle * 60, options.live.cap, options.live.sessionCap, g];
    const visitors = new Map<string, { bucket: number; entry: string; hits: number }>();
    for (const e of events) {
      const visitor = visitors.get(e.visitorId);
      if (visitor) visitor.hits++;
      else visitors.set(e.visitorId, { bucket: bucketIndex.get(minuteOf(e.receivedAt))!, entry: e.path, hits: 1 });
    }
    for (const [id, v] of visitors) {
      if (earlier) keys.push(live.earlierSession(id));
      sessionArgs.push(id, v.bucket, v.entry, v.hits);
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
    String(Math.floor(newest / 1_000)).padStart(10, '0'),
    earlier ? 1 : 0,
    DIMENSIONS.length,
    ...bucketArgs,
    ...sessionArgs,
  ];
  return { keys, args, minutes };
}

/** The generation's keys in the order the script takes them after the generation key (k+1 … k+4+D). */
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
  /** Per dimension number of EVENT_DIMENSIONS, value → count. */
  values: Map<number, Map<string, number>>;
  /** Page → its position among them (1-based) and the visitor id of each of its events. */
  pages: Map<string, { position: number; ids: string[] }>;
  /**
   * Per combination value, the position of its page among `pages` (1-based) and the visitor id
   * of each of its events (its HyperLogLog; for page views the script falls back to the page's).
   * Keyed by the value, but `(other)` (overlong combinations) once per page, so that each page
   * gets its own visitors back.
   */
  combinations: Map<string, { value: string; page: number; ids: string[] }>;
}

/**
 * A bucket's header and sections of ARGV (see the script); pushes its page HyperLogLog keys.
 * With `visitorsFromSessions` the bucket's visitors are the call's sessions (one bucket, live on).
 */
function bucketPart(
  minute: number,
  events: readonly EventWrite[],
  at: { generation: number; k: number; bucket: BucketKeys; keys: string[]; visitorsFromSessions: boolean } & Pick<SiteCallContext, 'digest' | 'combinationDigest'>,
): Array<string | number> {
  // Nested maps keyed by the events' own strings: a string hashes once and is looked up many
  // times, where composite keys would build and hash a new string per event and dimension.
  const groups = new Map<string, EventGroup>();
  const visitors = new Set<string>();
  let pageviews = 0;
  for (const e of events) {
    let g = groups.get(e.event);
    if (!g) {
      g = { index: groups.size + 1, count: 0, values: new Map(EVENT_DIMENSIONS.map((d) => [d, new Map()])), pages: new Map(), combinations: new Map() };
      groups.set(e.event, g);
    }
    g.count++;
    add(g.values.get(REFERRER)!, e.referrer);
    add(g.values.get(DEVICE)!, e.device);
    add(g.values.get(UTM_SOURCE)!, e.utmSource);
    add(g.values.get(UTM_MEDIUM)!, e.utmMedium);
    add(g.values.get(UTM_CAMPAIGN)!, e.utmCampaign);
    add(g.values.get(COUNTRY)!, e.country);
    add(g.values.get(REGION)!, e.region);
    add(g.values.get(CITY)!, e.city);
    add(g.values.get(BROWSER)!, e.browser);
    add(g.values.get(OS)!, e.os);
    let page = g.pages.get(e.path);
    if (page) page.ids.push(e.visitorId);
    else g.pages.set(e.path, (page = { position: g.pages.size + 1, ids: [e.visitorId] }));
    const value = combination(e);
    const key = value === OTHER ? `${OTHER}${COMBINATION_SEPARATOR}${e.path}` : value;
    const c = g.combinations.get(key);
    if (c) c.ids.push(e.visitorId);
    else g.combinations.set(key, { value, page: page.position, ids: [e.visitorId] });
    if (!at.visitorsFromSessions) visitors.add(e.visitorId);
    if (e.event === PAGEVIEW_EVENT) pageviews++;
  }
  const args: Array<string | number> = [
    minuteId(minute),
    minute / 1_000,
    at.generation,
    at.k,
    0, // the live offset l, set by the caller
    events.length,
    pageviews,
    groups.size,
    0, // G, set below
    visitors.size,
    groups.get(PAGEVIEW_EVENT)?.index ?? 0,
  ];
  for (const [name, g] of groups) args.push(name, g.count);
  let counterGroups = 0;
  for (const [name, g] of groups) {
    const prefix = `${name}\x1f`;
    const pageview = name === PAGEVIEW_EVENT;
    args.push(g.index, PAGE, g.pages.size);
    // Page views' pages carry no visitor ids: their combinations do (below).
    for (const [page, { ids }] of g.pages) {
      at.keys.push(at.bucket.pageHll(at.digest(page), at.generation));
      args.push(prefix + page, ids.length);
      if (!pageview) for (const id of ids) args.push(id);
    }
    if (!pageview) at.keys.push(at.bucket.eventHll(at.digest(name), at.generation));
    counterGroups++;
    for (const [dimension, values] of g.values) {
      if (values.size === 0) continue;
      args.push(g.index, dimension, values.size);
      for (const [value, n] of values) args.push(prefix + value, n);
      counterGroups++;
    }
    // Last of the group, after the HyperLogLogs of its pages: the script takes keys in this order.
    // A page view's combination HyperLogLog is named by the value, another event's by the field.
    args.push(g.index, COMBINATION, g.combinations.size);
    for (const { value, page, ids } of g.combinations.values()) {
      at.keys.push(at.bucket.combinationHll(at.combinationDigest(pageview ? value : prefix + value), at.generation));
      args.push(prefix + value, ids.length, page);
      for (const id of ids) args.push(id);
    }
    counterGroups++;
  }
  args[8] = counterGroups;
  for (const id of visitors) args.push(id);
  return args;
}

/** The event's values of COMBINATION_PARTS, in that order. */
function combination(e: EventWrite): string {
  const S = COMBINATION_SEPARATOR;
  const value = e.path + S + e.referrer + S + e.device + S + (e.country ?? '') + S + (e.browser ?? '') + S + (e.os ?? '') + S + (e.utmSource ?? '') + S + (e.utmMedium ?? '') + S + (e.utmCampaign ?? '');
  return value.length > COMBINATION_MAX_LENGTH ? OTHER : value;
}

function add(values: Map<string, number>, value: string | undefined): void {
  if (value) values.set(value, (values.get(value) ?? 0) + 1);
}


