import { DIMENSIONS, ENGAGED_VISIT_EVENT, VISIT_EVENT, type BucketKeys } from './keys.js';
import type { EventWrite } from './write-batcher.js';

/** A visit transition decided by the session script, counted in the bucket of the visit's first minute. */
export interface VisitCount {
  kind: 'visit' | 'engaged';
  entryPage: string;
}

// 0-based DIMENSIONS positions; the script numbers dimensions from 1.
const PAGE = DIMENSIONS.indexOf('page');
const REFERRER = DIMENSIONS.indexOf('referrer');
const DEVICE = DIMENSIONS.indexOf('device');
const UTM_SOURCE = DIMENSIONS.indexOf('utm_source');
const UTM_MEDIUM = DIMENSIONS.indexOf('utm_medium');
const UTM_CAMPAIGN = DIMENSIONS.indexOf('utm_campaign');
const ENTRY_PAGE = DIMENSIONS.indexOf('entry_page');

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
  // Nested maps keyed by the events' own strings: a string hashes once and is looked up many
  // times, where composite keys would build and hash a new string per event and dimension.
  const keys = [...fixedKeys];
  const pageKeyIndex = new Map<string, number>();
  const groups = new Map<string, EventGroup>();
  const group = (name: string): EventGroup => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { index: groups.size + 1, count: 0, values: DIMENSIONS.map(() => new Map()), pages: new Map() }));
    g.count++;
    return g;
  };
  for (const e of events) {
    const g = group(e.event);
    let keyIndex = pageKeyIndex.get(e.path);
    if (keyIndex === undefined) {
      keys.push(bucketKeys.pageHllBaseOfDigest(digest(e.path)));
      keyIndex = keys.length; // KEYS are 1-based in Lua
      pageKeyIndex.set(e.path, keyIndex);
    }
    add(g.values[PAGE]!, e.path);
    add(g.values[REFERRER]!, e.referrer);
    add(g.values[DEVICE]!, e.device);
    add(g.values[UTM_SOURCE]!, e.utmSource);
    add(g.values[UTM_MEDIUM]!, e.utmMedium);
    add(g.values[UTM_CAMPAIGN]!, e.utmCampaign);
    const page = g.pages.get(e.path);
    if (page) page.ids.push(e.visitorId);
    else g.pages.set(e.path, { keyIndex, ids: [e.visitorId] });
  }
  for (const v of visits) add(group(v.kind === 'visit' ? VISIT_EVENT : ENGAGED_VISIT_EVENT).values[ENTRY_PAGE]!, v.entryPage);

  const payload = { n: events.length, e: [] as unknown[], c: [] as unknown[], v: [] as unknown[] };
  for (const [name, g] of groups) {
    payload.e.push([name, g.count]);
    g.values.forEach((values, d) => {
      for (const [value, n] of values) payload.c.push([g.index, d + 1, value, n]);
    });
    for (const [page, { keyIndex, ids }] of g.pages) payload.v.push([g.index, keyIndex, page, ids]);
  }
  return { keys, args: [maxValuesPerDimension, JSON.stringify(payload)] };
}

interface EventGroup {
  /** 1-based position in the payload's `e`. */
  index: number;
  count: number;
  /** Per dimension (0-based DIMENSIONS index), value → count. */
  values: Array<Map<string, number>>;
  /** Page → its HyperLogLog's KEYS index and the visitor ids seen on it. */
  pages: Map<string, { keyIndex: number; ids: string[] }>;
}

function add(values: Map<string, number>, value: string | undefined): void {
  if (value) values.set(value, (values.get(value) ?? 0) + 1);
}
