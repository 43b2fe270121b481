import type { EventWrite } from '@rta/redis-store';
import { FILTER_DIMENSIONS, type Filters } from '@rta/warehouse';

/**
 * Adds one event to the counters the warehouse must end up with, keyed as
 * `warehouseCounts` keys them (`minuteISO|site|event|dimension|value`): the event's total,
 * page, referrer and device, each of its other dimensions it has a value for, and its
 * combination (page, referrer, device, country, browser, os and the three campaign parameters,
 * '' for those it lacks, joined by U+001F).
 */
export function addExpected(expected: Map<string, number>, e: EventWrite): void {
  const minute = Math.floor(e.receivedAt / 60_000) * 60_000;
  const base = `${new Date(minute).toISOString()}|${e.site}|${e.event}`;
  const optional: Array<[string, string | undefined]> = [
    ['utm_source', e.utmSource],
    ['utm_medium', e.utmMedium],
    ['utm_campaign', e.utmCampaign],
    ['country', e.country],
    ['region', e.region],
    ['city', e.city],
    ['browser', e.browser],
    ['os', e.os],
  ];
  const keys = [`${base}|total|`, `${base}|page|${e.path}`, `${base}|referrer|${e.referrer}`, `${base}|device|${e.device}`];
  for (const [dimension, value] of optional) if (value) keys.push(`${base}|${dimension}|${value}`);
  const { path: page, referrer, device, country, browser, os, utmSource: utm_source, utmMedium: utm_medium, utmCampaign: utm_campaign } = e;
  keys.push(`${base}|combination|${combination({ page, referrer, device, country, browser, os, utm_source, utm_medium, utm_campaign })}`);
  for (const key of keys) expected.set(key, (expected.get(key) ?? 0) + 1);
}

/**
 * The `combination` value of an event's values of FILTER_DIMENSIONS (the SQL contract's order:
 * page, referrer, device, country, browser, os, utm_source, utm_medium, utm_campaign; '' for
 * those it lacks), joined by U+001F; `(other)` past 2,048 characters.
 */
export function combination(values: { [D in keyof Filters]?: string | undefined }): string {
  const value = FILTER_DIMENSIONS.map((d) => values[d] ?? '').join('\x1f');
  return value.length > 2_048 ? '(other)' : value;
}
