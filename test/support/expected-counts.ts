import type { EventWrite } from '@rta/redis-store';

/**
 * Adds one event to the counters the warehouse must end up with, keyed as
 * `warehouseCounts` keys them (`minuteISO|site|event|dimension|value`): the event's total,
 * page, referrer and device (events written without UTM values).
 */
export function addExpected(expected: Map<string, number>, e: EventWrite): void {
  const minute = Math.floor(e.receivedAt / 60_000) * 60_000;
  const base = `${new Date(minute).toISOString()}|${e.site}|${e.event}`;
  for (const key of [`${base}|total|`, `${base}|page|${e.path}`, `${base}|referrer|${e.referrer}`, `${base}|device|${e.device}`]) {
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
}
