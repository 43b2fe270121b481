import { LIVE_MINUTE_KEYS, type LiveMinuteKey } from './keys.js';

/** Sessions and the live view, as the tracker writes them (AnalyticsStoreOptions.live). */
export interface LiveOptions {
  /** A visit ends after this many minutes without a hit. Default 30. */
  sessionIdleMinutes?: number;
  /** Members per live sorted set (pages, referrers, custom events) and minute before "(other)". Default: the cardinality guard. */
  maxMembersPerMinute?: number;
  /**
   * Sessions (visits in progress, one small hash field each) a site may create per session window of
   * `sessionIdleMinutes`; past it new visitors' visits are estimated (see track-site-n.lua).
   * Default 500,000.
   */
  sessionCap?: number;
}

export const liveDefaults = { sessionIdleMinutes: 30, sessionCap: 500_000 } as const;

/** The live minute structures in the order the track script numbers them. */
export const LIVE_MINUTE_KINDS = Object.keys(LIVE_MINUTE_KEYS) as LiveMinuteKey[];

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
