/**
 * Deterministic traffic of visitors who come back: each visitor makes 1–3 visits in different
 * hours, each visit 1–3 page views in consecutive minutes on random pages. Returns the events
 * (as the tracker hands them to the Redis store) and the exact distinct visitor counts the
 * warehouse's `visitors` query is compared with.
 */
import type { EventWrite } from '@rta/redis-store';
import { random } from './traffic.js';

export interface ReturningTrafficOptions {
  site: string;
  /** Start of the first hour, milliseconds since the epoch, on an hour boundary. */
  start: number;
  hours: number;
  visitors: number;
  pages: number;
  seed?: number;
}

export interface ReturningTraffic {
  events: EventWrite[];
  /** Distinct visitors over the whole range. */
  total: number;
  /** Distinct visitors per hour, index 0 = the first hour. */
  perHour: number[];
  /** Distinct visitors per page over the whole range. */
  perPage: Map<string, number>;
  /** Distinct visitors per minute, summed: what adding up per-minute `visitors` would claim. */
  sumOfMinutes: number;
}

export function returningTraffic(options: ReturningTrafficOptions): ReturningTraffic {
  const rand = random(options.seed ?? 1);
  const pick = (n: number) => Math.floor(rand() * n);
  const pages = Array.from({ length: options.pages }, (_, i) => `/page/${i}`);
  const events: EventWrite[] = [];
  const hourSets = Array.from({ length: options.hours }, () => new Set<string>());
  const pageSets = new Map(pages.map((p) => [p, new Set<string>()]));
  const minuteSets = new Map<number, Set<string>>();

  for (let v = 0; v < options.visitors; v++) {
    const visitorId = `visitor-${v}`;
    const hours = new Set<number>();
    const visits = 1 + pick(Math.min(3, options.hours));
    while (hours.size < visits) hours.add(pick(options.hours));
    for (const hour of hours) {
      const views = 1 + pick(3);
      const firstMinute = hour * 60 + pick(60 - views + 1);
      for (let i = 0; i < views; i++) {
        // Skewed popularity: low page numbers are read far more often.
        const path = pages[Math.floor(options.pages * rand() ** 2)]!;
        const minute = firstMinute + i;
        events.push({
          site: options.site,
          event: 'pageview',
          path,
          referrer: '(direct)',
          device: 'desktop',
          visitorId,
          receivedAt: options.start + minute * 60_000 + pick(60_000),
        });
        hourSets[hour]!.add(visitorId);
        pageSets.get(path)!.add(visitorId);
        const seen = minuteSets.get(minute) ?? new Set<string>();
        seen.add(visitorId);
        minuteSets.set(minute, seen);
      }
    }
  }
  let sumOfMinutes = 0;
  for (const set of minuteSets.values()) sumOfMinutes += set.size;
  return {
    events,
    total: options.visitors,
    perHour: hourSets.map((s) => s.size),
    perPage: new Map([...pageSets].filter(([, s]) => s.size > 0).map(([p, s]) => [p, s.size])),
    sumOfMinutes,
  };
}
