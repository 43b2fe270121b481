import { PAGEVIEW_EVENT, LIVE_MINUTE_KEYS, minuteId, minuteOf, parseMinuteId, type LiveKeys, type LiveMinuteKey } from './keys.js';
import type { VisitCount } from './bucket-call.js';
import type { EventWrite } from './write-batcher.js';

/** Sessions and the live view, as the tracker writes them (AnalyticsStoreOptions.live). */
export interface LiveOptions {
  /** A visit ends after this many minutes without a hit. Default 30. */
  sessionIdleMinutes?: number;
  /** Members per live sorted set (pages, referrers, custom events) and minute before "(other)". Default: the cardinality guard. */
  maxMembersPerMinute?: number;
}

export const liveDefaults = { sessionIdleMinutes: 30 } as const;

/** Minutes the live view reads back: visitors "right now", page views per minute, tops. */
export const LIVE_WINDOWS = { visitorsNowMinutes: 5, perMinuteMinutes: 60, topMinutes: 30, customEventMinutes: 5 } as const;

/** Seconds after its minute starts that each per-minute live key expires (the window it serves plus two minutes). */
export function liveRetentionSeconds(kind: LiveMinuteKey, sessionIdleMinutes: number): number {
  const minutes: Record<LiveMinuteKey, number> = {
    counts: LIVE_WINDOWS.perMinuteMinutes,
    visitors: Math.max(LIVE_WINDOWS.visitorsNowMinutes, sessionIdleMinutes),
    pages: LIVE_WINDOWS.topMinutes,
    referrers: LIVE_WINDOWS.topMinutes,
    events: LIVE_WINDOWS.customEventMinutes,
  };
  return (minutes[kind] + 2) * 60;
}

const MINUTE_KINDS = Object.keys(LIVE_MINUTE_KEYS) as LiveMinuteKey[];
/** The script's set numbers (3|4|5) of pages, referrers and custom events. */
const SET_INDEXES = [3, 4, 5] as const;

/** A visit transition of one visitor of the call, for the bucket of the visit's first minute. */
export interface VisitTransition extends VisitCount {
  visitorId: string;
  /** Start of the visit's first minute, ms. */
  minute: number;
}

/** KEYS and ARGV of one track-live-n.lua call for events of one site, in arrival order. */
export function liveCall(
  keys: LiveKeys,
  events: readonly EventWrite[],
  options: { sessionIdleMinutes: number; cap: number },
): { keys: string[]; args: Array<string | number>; visitorIds: string[] } {
  const minutes = new Map<number, LiveMinute>();
  const visitors = new Map<string, { minuteIndex: number; entry: string; start: string; hits: number }>();
  for (const e of events) {
    const minute = minuteOf(e.receivedAt);
    let m = minutes.get(minute);
    if (!m) {
      m = { index: minutes.size + 1, pageviews: 0, events: 0, visitors: new Set(), sets: [new Map(), new Map(), new Map()] };
      minutes.set(minute, m);
    }
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
    else visitors.set(e.visitorId, { minuteIndex: m.index, entry: e.path, start: minuteId(minute), hits: 1 });
  }

  const callKeys: string[] = [];
  const payload = { m: [] as unknown[], z: [] as unknown[], s: [] as unknown[] };
  for (const [minute, m] of minutes) {
    for (const kind of MINUTE_KINDS) callKeys.push(keys.minute(kind, minute));
    payload.m.push([minute / 1_000, m.pageviews, m.events, [...m.visitors]]);
    m.sets.forEach((members, i) => {
      for (const [member, count] of members) payload.z.push([m.index, SET_INDEXES[i], member, count]);
    });
  }
  const visitorIds: string[] = [];
  for (const [id, v] of visitors) {
    callKeys.push(keys.session(id));
    visitorIds.push(id);
    payload.s.push([callKeys.length, MINUTE_KINDS.length * (v.minuteIndex - 1) + 1, v.entry, v.start, v.hits]);
  }
  const args: Array<string | number> = [
    options.cap,
    options.sessionIdleMinutes * 60,
    ...(['counts', 'visitors', 'pages', 'events'] as const).map((kind) => liveRetentionSeconds(kind, options.sessionIdleMinutes)),
    JSON.stringify(payload),
  ];
  return { keys: callKeys, args, visitorIds };
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

function add(members: Map<string, number>, member: string): void {
  members.set(member, (members.get(member) ?? 0) + 1);
}

/** The script's flat reply (visitor index, kind, start minute id, entry page) as transitions. */
export function parseTransitions(reply: unknown, visitorIds: readonly string[]): VisitTransition[] {
  const flat = reply as Array<string | number>;
  const transitions: VisitTransition[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    transitions.push({
      visitorId: visitorIds[Number(flat[i]) - 1]!,
      kind: Number(flat[i + 1]) === 1 ? 'visit' : 'engaged',
      minute: parseMinuteId(String(flat[i + 2])),
      entryPage: String(flat[i + 3]),
    });
  }
  return transitions;
}
