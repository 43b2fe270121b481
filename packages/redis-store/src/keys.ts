import { hash } from 'node:crypto';

/**
 * Counter dimensions, in the order the track script takes them. `entry_page` is written only for
 * the visit events below (the page a visit started on); `region` and `city` only when the
 * tracker's geolocation database has them. `combination` counts each event's values of
 * COMBINATION_PARTS together (the dashboard's filters), joined by COMBINATION_SEPARATOR.
 */
export const DIMENSIONS = [
  'total',
  'page',
  'referrer',
  'device',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'entry_page',
  'country',
  'region',
  'city',
  'browser',
  'os',
  'combination',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Sites become part of key names, so only plain host names are allowed (checked at config time). */
export const SITE_NAME = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

/**
 * What a `combination` value holds, in order: one event's values of these dimensions (`''` for
 * a campaign parameter it does not have), so that counts can be filtered by any of them and
 * broken down by another (the SQL pack's `filtered-*` queries take them apart by position).
 */
export const COMBINATION_PARTS = ['page', 'referrer', 'device', 'country', 'browser', 'os', 'utm_source', 'utm_medium', 'utm_campaign'] as const;
/** Between the parts of a combination: a control character, which no value may contain. */
export const COMBINATION_SEPARATOR = '\x1f';
/**
 * A combination longer than this (characters) is counted as `(other)`: Redshift's value column
 * holds 8,192 bytes, 2,048 characters of four-byte UTF-8.
 */
export const COMBINATION_MAX_LENGTH = 2_048;

/** The value counted past the cardinality guard. */
export const OTHER = '(other)';

/**
 * Events the store derives from sessions (never sent by a page; @rta/events rejects them):
 * `visit` counts a visit in the minute of its first hit, `engaged_visit` counts, in that same
 * minute, a visit that got a second hit. Both with dimensions `total` and `entry_page`.
 */
export const VISIT_EVENT = 'visit';
/** Page views (the default event); every other event name is a custom event in the live view. */
export const PAGEVIEW_EVENT = 'pageview';
export const ENGAGED_VISIT_EVENT = 'engaged_visit';

/** A (site, minute) bucket: the unit that is claimed, flushed and loaded as batches. */
export interface BucketRef {
  site: string;
  /** Start of the minute, milliseconds since the epoch (UTC). */
  minute: number;
  /**
   * Written by a tracker before site hash tags (key names `{<prefix>:<site>:<minute>}…`,
   * indexed in `<prefix>:pending`): flushed like any bucket, never written again.
   */
  legacyKeys?: true;
}

/**
 * The only place that knows Redis key names: every script gets its keys in KEYS, built here.
 *
 * Every key of a site carries the site's hash tag `{<prefix>:<site>}`, so one script call
 * writes a batch's counters, sessions, live view and visit counts atomically in one slot, and
 * every claim runs in that slot too. A site lives on one Redis Cluster shard; sites spread.
 *
 * Per (site, minute) bucket, under `<tag>:<yyyymmddhhmm>`. Data keys exist per generation
 * (suffix `:<gen>`): the tracker writes the current generation, a claim moves it on.
 *
 * - `…:gen`                 current generation and its token, `<gen>:<token>` (absent = 0; a
 *                           bucket written before tokens holds `<gen>` alone)
 * - `…:claims`              hash generation → batch id of claims not yet acknowledged
 * - `…:lock`                flush lock of the bucket
 * - `…:n:<gen>`             events counted in the generation
 * - `…:c:<dim>:<gen>`       counter hash, field `<event>\x1f<value>`
 * - `…:va:<gen>`            engaged visits of visits that started in another minute, field
 *                           `<start minute id>\x1f<entry page>` (loaded into the start minute)
 * - `…:u:<gen>`             site HyperLogLog of visitor ids
 * - `…:up:<sha1>:<gen>`     page HyperLogLog; the page enters the name only as a digest
 * - `…:ue:<sha1>:<gen>`     HyperLogLog of a custom event's visitors (any event but page views),
 *                           named by the event name's digest
 * - `…:uc:<sha1>:<gen>`     HyperLogLog of the page views' visitors of one `combination` value,
 *                           named by its digest (visitors under any filters)
 *
 * Per site: `<tag>:pending` (sorted set of the site's buckets holding data or open claims,
 * member and score the minute id, written in the same script as the counters) and the live
 * state under `<tag>:live` (see LiveKeys; `live` is not a minute id).
 *
 * Global keys, each used alone by single-key commands (so they work on a cluster, wherever their
 * slot is): `<prefix>:sites` (set of sites, where the flusher starts; trackers re-register their
 * sites periodically, so it heals after Redis lost it), `<prefix>:salt:<day>`,
 * `<prefix>:last-flush`, and `<prefix>:pending` (the index of buckets written before site tags,
 * read until it is empty). No request of the tracker touches them.
 */
export class AnalyticsKeys {
  private readonly siteKeys = new Map<string, SiteKeys>();

  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) throw new Error(`invalid Redis key prefix ${JSON.stringify(prefix)}`);
  }

  get sites(): string {
    return `${this.prefix}:sites`;
  }

  get legacyPending(): string {
    return `${this.prefix}:pending`;
  }

  /** SCAN pattern of every site's pending index (see `siteOfPending`). */
  get pendingPattern(): string {
    return `{${this.prefix}:*}:pending`;
  }

  /** The site of a key matching `pendingPattern`, or undefined for another key. */
  siteOfPending(key: string): string | undefined {
    const open = `{${this.prefix}:`;
    const close = '}:pending';
    if (!key.startsWith(open) || !key.endsWith(close)) return undefined;
    const site = key.slice(open.length, key.length - close.length);
    return SITE_NAME.test(site) ? site : undefined;
  }

  get lastFlush(): string {
    return `${this.prefix}:last-flush`;
  }

  salt(day: string): string {
    return `${this.prefix}:salt:${day}`;
  }

  /** One per site (sites are a configured list), so its session-key cache lasts. */
  site(site: string): SiteKeys {
    let keys = this.siteKeys.get(site);
    if (!keys) this.siteKeys.set(site, (keys = new SiteKeys(`{${this.prefix}:${site}}`)));
    return keys;
  }

  live(site: string): LiveKeys {
    return this.site(site).live;
  }

  bucket(ref: BucketRef): BucketKeys {
    const id = minuteId(ref.minute);
    return new BucketKeys(ref.legacyKeys ? `{${this.prefix}:${ref.site}:${id}}` : `${this.site(ref.site).tag}:${id}`);
  }

  /** A member of the legacy pending index (`<yyyymmddhhmm>|<site>`) as a bucket. */
  parseLegacyMember(member: string): BucketRef {
    const [id, site] = member.split('|');
    if (!id || !site) throw new Error(`malformed pending member ${JSON.stringify(member)}`);
    return { site, minute: parseMinuteId(id), legacyKeys: true };
  }

  legacyMember(ref: BucketRef): string {
    return `${minuteId(ref.minute)}|${ref.site}`;
  }
}

export class SiteKeys {
  readonly live: LiveKeys;

  constructor(readonly tag: string) {
    this.live = new LiveKeys(`${tag}:live`);
  }

  /** Sorted set of the site's pending buckets: member and score are the minute id. */
  get pending(): string {
    return `${this.tag}:pending`;
  }
}

export class BucketKeys {
  constructor(readonly base: string) {}

  get generation(): string {
    return `${this.base}:gen`;
  }
  get claims(): string {
    return `${this.base}:claims`;
  }
  get lock(): string {
    return `${this.base}:lock`;
  }
  eventCount(generation: number): string {
    return `${this.base}:n:${generation}`;
  }
  counter(dimension: Dimension, generation: number): string {
    return `${this.base}:c:${dimension}:${generation}`;
  }
  engagedEarlier(generation: number): string {
    return `${this.base}:va:${generation}`;
  }
  siteHll(generation: number): string {
    return `${this.base}:u:${generation}`;
  }
  /** The HyperLogLog of a page, named by the page's digest (see pageDigest). */
  pageHll(digest: string, generation: number): string {
    return `${this.base}:up:${digest}:${generation}`;
  }
  /** The HyperLogLog of a custom event's visitors, named by the event name's digest (see pageDigest). */
  eventHll(digest: string, generation: number): string {
    return `${this.base}:ue:${digest}:${generation}`;
  }
  /** The HyperLogLog of the page views of one `combination` value, named by its digest (see pageDigest). */
  combinationHll(digest: string, generation: number): string {
    return `${this.base}:uc:${digest}:${generation}`;
  }
  /** Every data key of a generation but the page, event and combination HyperLogLogs. */
  dataKeys(generation: number): string[] {
    return [
      this.eventCount(generation),
      this.siteHll(generation),
      this.engagedEarlier(generation),
      ...DIMENSIONS.map((d) => this.counter(d, generation)),
    ];
  }
}

/** A bucket's generation key, parsed: the generation and the token its batch ids carry. */
export interface Generation {
  generation: number;
  /** Absent in buckets written before tokens: their batch ids get a random part instead. */
  token?: string;
}

export function parseGeneration(value: string | null): Generation {
  if (value === null) return { generation: 0 };
  const cut = value.indexOf(':');
  const generation = Number(cut < 0 ? value : value.slice(0, cut));
  if (!Number.isSafeInteger(generation) || generation < 0) throw new Error(`malformed generation ${JSON.stringify(value)}`);
  return cut < 0 ? { generation } : { generation, token: value.slice(cut + 1) };
}

/** Per-minute structures of the live view (how long each is kept: see live-options.ts). */
export const LIVE_MINUTE_KEYS = {
  /** hash: `pageviews`, `events`, `visits` (visits started) of the minute */
  counts: { suffix: 'm' },
  /** HyperLogLog of the minute's visitors */
  visitors: { suffix: 'u' },
  /** sorted set: page views per page */
  pages: { suffix: 'p' },
  /** sorted set: page views per referrer host */
  referrers: { suffix: 'r' },
  /** sorted set: custom events (anything but page views) per event name */
  events: { suffix: 'e' },
} as const;
export type LiveMinuteKey = keyof typeof LIVE_MINUTE_KEYS;

/**
 * Keys of a site's live state, under `<site tag>:live`, so that the session writes, the
 * multi-key PFCOUNT and the ZUNIONSTORE of the live view run in the site's slot.
 *
 * - `…:ss:<window>`            sessions (visits) of a session window (idle time): hash, field per visitor id (see track-site-n.lua)
 * - `…:ss-since`               when the site's sessions moved into those hashes (see "Upgrade" in track-site-n.lua)
 * - `…:s:<sha1(visitor id)>`   a session as the earlier version kept it: string, expires after the idle time
 * - `…:<m|u|p|r|e>:<yyyymmddhhmm>` per-minute structures, see LIVE_MINUTE_KEYS
 * - `…:b:<yyyymmddhhmm>`        bot hits of the minute (string counter, see bot-counts.ts)
 * - `…:sc:<window>`            sessions created in a session window (idle time), for the session cap
 * - `…:cv:<window>`            HyperLogLog of the window's visitors past the session cap
 * - `…:call:<id>`              marker of an applied track call (a retried call writes nothing twice)
 * - `…:scratch`                short-lived union of the live view's read script
 */
export class LiveKeys {
  constructor(readonly base: string) {}

  sessions(window: number): string {
    return `${this.base}:ss:${window}`;
  }
  get sessionsMovedAt(): string {
    return `${this.base}:ss-since`;
  }
  earlierSession(visitorId: string): string {
    return `${this.base}:s:${pageDigest(visitorId)}`;
  }
  minute(kind: LiveMinuteKey, minute: number): string {
    return `${this.base}:${LIVE_MINUTE_KEYS[kind].suffix}:${minuteId(minute)}`;
  }
  sessionsCreated(window: number): string {
    return `${this.base}:sc:${window}`;
  }
  cappedVisitors(window: number): string {
    return `${this.base}:cv:${window}`;
  }
  call(id: string): string {
    return `${this.base}:call:${id}`;
  }
  get scratch(): string {
    return `${this.base}:scratch`;
  }
  bots(minute: number): string {
    return `${this.base}:b:${minuteId(minute)}`;
  }
}

/** How a page enters its HyperLogLog's key name: as a digest, never as text from a request. */
export function pageDigest(page: string): string {
  return hash('sha1', page, 'base64url');
}

let lastMinute = NaN;
let lastMinuteId = '';

/** `yyyymmddhhmm` in UTC (memoised: nearly every call is for the current minute). */
export function minuteId(minute: number): string {
  if (minute !== lastMinute) {
    lastMinuteId = new Date(minute).toISOString().slice(0, 16).replace(/[-T:]/g, '');
    lastMinute = minute;
  }
  return lastMinuteId;
}

export function parseMinuteId(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(id);
  if (!m) throw new Error(`malformed minute id ${JSON.stringify(id)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
}

export function minuteOf(time: number): number {
  return time - (((time % 60_000) + 60_000) % 60_000);
}
