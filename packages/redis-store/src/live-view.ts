import type { RedisClient } from './redis-client.js';
import { minuteOf, type LiveKeys } from './keys.js';
import { LIVE_WINDOWS } from './live-options.js';
import { callScript } from './scripts.js';

export interface LiveCount {
  value: string;
  count: number;
}

/** A site's live view, read from Redis only (the warehouse is not involved). */
export interface LiveView {
  site: string;
  /** Start of the current minute (the newest minute of every window), ISO-8601 UTC. */
  minute: string;
  /** Distinct visitors over the last 5 minutes (HyperLogLog, about 0.8% error). */
  visitorsNow: number;
  /** Visits in progress: distinct visitors seen within the session idle time (each has one open visit). */
  visitsInProgress: number;
  /** Visits started in the last 30 minutes (exact). */
  visitsLast30Minutes: number;
  /** Page views in the last 30 minutes (exact). */
  pageviewsLast30Minutes: number;
  /** The last 60 minutes, oldest first; quiet minutes are zeros. */
  perMinute: Array<{ minute: string; pageviews: number; visits: number; events: number }>;
  /** Top pages and referrer hosts by page views over the last 30 minutes. */
  topPages: LiveCount[];
  topReferrers: LiveCount[];
  /** Custom events (anything but page views) over the last 5 minutes. */
  customEvents: LiveCount[];
}

/** Reads the live view with one read-live-n.lua call (one slot, one round trip). */
export async function readLiveView(
  redis: RedisClient,
  keys: LiveKeys,
  site: string,
  options: { now: number; sessionIdleMinutes: number; top: number },
): Promise<LiveView> {
  const current = minuteOf(options.now);
  const last = (n: number) => Array.from({ length: n }, (_, i) => current - i * 60_000); // newest first
  const inProgressMinutes = Math.max(1, options.sessionIdleMinutes);
  const callKeys = [
    ...last(LIVE_WINDOWS.visitorsNowMinutes).map((m) => keys.minute('visitors', m)),
    ...last(inProgressMinutes).map((m) => keys.minute('visitors', m)),
    ...last(LIVE_WINDOWS.perMinuteMinutes).map((m) => keys.minute('counts', m)),
    ...last(LIVE_WINDOWS.topMinutes).map((m) => keys.minute('pages', m)),
    ...last(LIVE_WINDOWS.topMinutes).map((m) => keys.minute('referrers', m)),
    ...last(LIVE_WINDOWS.customEventMinutes).map((m) => keys.minute('events', m)),
    keys.scratch,
  ];
  const args = [
    LIVE_WINDOWS.visitorsNowMinutes,
    inProgressMinutes,
    LIVE_WINDOWS.perMinuteMinutes,
    LIVE_WINDOWS.topMinutes,
    LIVE_WINDOWS.customEventMinutes,
    options.top,
  ];
  const [now, inProgress, flat, pages, referrers, events] = (await callScript(redis, 'readLive', callKeys, args)) as [
    number,
    number,
    number[],
    string[],
    string[],
    string[],
  ];
  const perMinute = last(LIVE_WINDOWS.perMinuteMinutes)
    .map((minute, i) => ({
      minute: new Date(minute).toISOString(),
      pageviews: Number(flat[3 * i]),
      visits: Number(flat[3 * i + 1]),
      events: Number(flat[3 * i + 2]),
    }))
    .reverse();
  const recent = perMinute.slice(-LIVE_WINDOWS.topMinutes);
  return {
    site,
    minute: new Date(current).toISOString(),
    visitorsNow: Number(now),
    visitsInProgress: Number(inProgress),
    visitsLast30Minutes: recent.reduce((sum, m) => sum + m.visits, 0),
    pageviewsLast30Minutes: recent.reduce((sum, m) => sum + m.pageviews, 0),
    perMinute,
    topPages: pairs(pages),
    topReferrers: pairs(referrers),
    customEvents: pairs(events),
  };
}

/** Member, score pairs: highest count first, ties in alphabetical order. */
function pairs(flat: string[]): LiveCount[] {
  const out: LiveCount[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ value: flat[i]!, count: Number(flat[i + 1]) });
  return out.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}
