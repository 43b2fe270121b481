import { DIMENSIONS, ENGAGED_VISIT_EVENT, VISIT_EVENT, type BucketKeys } from './keys.js';
import type { EventWrite } from './write-batcher.js';

/** A visit transition decided by the session script, counted in the bucket of the visit's first minute. */
export interface VisitCount {
  kind: 'visit' | 'engaged';
  entryPage: string;
}

const ENTRY_PAGE = DIMENSIONS.indexOf('entry_page') + 1;

/**
 * KEYS and ARGV of one track-batch-n.lua call: events (counters, HyperLogLogs and the event
 * count) and/or visit counts (the `visit` and `engaged_visit` events, dimensions `total` and
 * `entry_page`; they add 0 to the event count). Identical counters are summed here, so Redis
 * sees one HINCRBY per distinct counter.
 */
export function bucketCall(
  bucketKeys: BucketKeys,
  fixedKeys: readonly string[],
  events: readonly EventWrite[],
  visits: readonly VisitCount[],
  maxValuesPerDimension: number,
  digest: (page: string) => string,
): { keys: string[]; args: Array<string | number> } {
  const keys = [...fixedKeys];
  const pageKeyIndex = new Map<string, number>();
  const eventIndex = new Map<string, { index: number; count: number }>();
  const counters = new Map<string, { event: number; dimension: number; value: string; count: number }>();
  const visitors = new Map<string, { event: number; keyIndex: number; page: string; ids: string[] }>();
  const nameIndex = (name: string) => {
    let entry = eventIndex.get(name);
    if (!entry) eventIndex.set(name, (entry = { index: eventIndex.size + 1, count: 0 }));
    entry.count++;
    return entry.index;
  };
  const count = (event: number, dimension: number, value: string | undefined) => {
    if (!value) return;
    const id = `${event}\x1f${dimension}\x1f${value}`;
    const counter = counters.get(id);
    if (counter) counter.count++;
    else counters.set(id, { event, dimension, value, count: 1 });
  };
  for (const e of events) {
    const name = nameIndex(e.event);
    let keyIndex = pageKeyIndex.get(e.path);
    if (keyIndex === undefined) {
      keys.push(bucketKeys.pageHllBaseOfDigest(digest(e.path)));
      keyIndex = keys.length; // KEYS are 1-based in Lua
      pageKeyIndex.set(e.path, keyIndex);
    }
    count(name, 2, e.path);
    count(name, 3, e.referrer);
    count(name, 4, e.device);
    count(name, 5, e.utmSource);
    count(name, 6, e.utmMedium);
    count(name, 7, e.utmCampaign);
    const group = `${name}\x1f${e.path}`;
    const list = visitors.get(group);
    if (list) list.ids.push(e.visitorId);
    else visitors.set(group, { event: name, keyIndex, page: e.path, ids: [e.visitorId] });
  }
  for (const v of visits) count(nameIndex(v.kind === 'visit' ? VISIT_EVENT : ENGAGED_VISIT_EVENT), ENTRY_PAGE, v.entryPage);

  const payload = {
    n: events.length,
    e: [...eventIndex].map(([name, { count: n }]) => [name, n]),
    c: [...counters.values()].map((c) => [c.event, c.dimension, c.value, c.count]),
    v: [...visitors.values()].map((v) => [v.event, v.keyIndex, v.page, v.ids]),
  };
  const args: Array<string | number> = [maxValuesPerDimension, JSON.stringify(payload)];
  return { keys, args };
}
