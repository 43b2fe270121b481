import { minuteOf, type AnalyticsStore, type EventWrite } from '@rta/redis-store';

/**
 * Fills one minute of `site` (default `example.com`) with `counters` distinct counters: half of
 * them page values × the events pageview and signup, the other half those events'
 * `combination`s (one each: the page is the event's own), plus a `total`, `referrer` and
 * `device` counter per event name; and counters / 4 page sketches: the minute the flush
 * benchmark and the flush-blocking test move. The store needs a cardinality guard above
 * counters / 4.
 */
export async function fillLargeMinute(store: AnalyticsStore, minute: number, counters: number, site = 'example.com'): Promise<void> {
  if (minute !== minuteOf(minute)) throw new Error('minute must start on a minute boundary');
  const events: EventWrite[] = [];
  for (let i = 0; i < counters / 4; i++) {
    for (const event of ['pageview', 'signup']) {
      events.push({ site, event, path: `/p/${i}`, referrer: 'news.example', device: 'desktop', visitorId: `u:${i}`, receivedAt: minute + 1_000 });
    }
  }
  for (let i = 0; i < events.length; i += 2_000) await store.track(events.slice(i, i + 2_000));
}
