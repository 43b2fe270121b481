import { createHash } from 'node:crypto';
import { memo } from './memo.js';

/**
 * Counter dimensions, in the order the track script takes them. `entry_page` is written only for
 * the visit events below (the page a visit started on).
 */
export const DIMENSIONS = ['total', 'page', 'referrer', 'device', 'utm_source', 'utm_medium', 'utm_campaign', 'entry_page'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Sites become part of key names, so only plain host names are allowed (checked at config time). */
export const SITE_NAME = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

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
}

/**
 * The only place that knows Redis key names.
 *
 * Per bucket, every key carries the hash tag `{<prefix>:<site>:<yyyymmddhhmm>}`, so all writes
 * of one event and every claim run in a single slot. Data keys exist per generation (suffix
 * `:<gen>`): the tracker writes the current generation, a claim moves the tracker on to the next.
 *
 * - `<tag>:gen`                 current generation (absent = 0)
 * - `<tag>:claims`              hash generation → batch id of claims not yet acknowledged
 * - `<tag>:lock`                flush lock of the bucket
 * - `<tag>:n:<gen>`             events counted in the generation
 * - `<tag>:c:<dim>:<gen>`       counter hash, field `<event>\x1f<value>`
 * - `<tag>:u:<gen>`             site HyperLogLog of visitor ids
 * - `<tag>:up:<sha1>:<gen>`     page HyperLogLog; the page enters the name only as a digest
 *
 * Global keys: `<prefix>:pending` (sorted set of buckets by minute), `<prefix>:salt:<day>`,
 * `<prefix>:last-flush`.
 *
 * Live state of a site (sessions and the live view; never flushed, every key expires) shares
 * the hash tag `{<prefix>:<site>:live}`: see LiveKeys. `live` is not a minute id, so the tag
 * never equals a bucket tag whatever the site is called.
 */
export class AnalyticsKeys {
  private readonly liveKeys = new Map<string, LiveKeys>();

  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) throw new Error(`invalid Redis key prefix ${JSON.stringify(prefix)}`);
  }

  get pending(): string {
    return `${this.prefix}:pending`;
  }

  get lastFlush(): string {
    return `${this.prefix}:last-flush`;
  }

  salt(day: string): string {
    return `${this.prefix}:salt:${day}`;
  }

  /** One per site (sites are a configured list), so its session-key cache lasts. */
  live(site: string): LiveKeys {
    let keys = this.liveKeys.get(site);
    if (!keys) this.liveKeys.set(site, (keys = new LiveKeys(`{${this.prefix}:${site}:live}`)));
    return keys;
  }

  bucket(ref: BucketRef): BucketKeys {
    return new BucketKeys(`{${this.prefix}:${ref.site}:${minuteId(ref.minute)}}`);
  }

  /** Member of the pending set for a bucket; `parseMember` reverses it. */
  member(ref: BucketRef): string {
    return `${minuteId(ref.minute)}|${ref.site}`;
  }

  parseMember(member: string): BucketRef {
    const [id, site] = member.split('|');
    if (!id || !site) throw new Error(`malformed pending member ${JSON.stringify(member)}`);
    return { site, minute: parseMinuteId(id) };
  }
}

export class BucketKeys {
  constructor(readonly tag: string) {}

  get generation(): string {
    return `${this.tag}:gen`;
  }
  get claims(): string {
    return `${this.tag}:claims`;
  }
  get lock(): string {
    return `${this.tag}:lock`;
  }
  /** Bases: the generation is appended as `:<gen>`. */
  get eventCountBase(): string {
    return `${this.tag}:n`;
  }
  get siteHllBase(): string {
    return `${this.tag}:u`;
  }
  counterBase(dimension: Dimension): string {
    return `${this.tag}:c:${dimension}`;
  }
  pageHllBase(page: string): string {
    return this.pageHllBaseOfDigest(pageDigest(page));
  }
  pageHllBaseOfDigest(digest: string): string {
    return `${this.tag}:up:${digest}`;
  }
  /** A base with its generation. */
  static at(base: string, generation: number): string {
    return `${base}:${generation}`;
  }
}

/** Per-minute structures of the live view (how long each is kept: see live-writes.ts). */
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
 * Keys of a site's live state, all under the tag `{<prefix>:<site>:live}` so that the session
 * writes, the multi-key PFCOUNT and the ZUNIONSTORE of the live view run in one slot.
 *
 * - `<tag>:s:<sha1(visitor id)>`   session (visit) of a visitor: string (see track-live-n.lua), expires after the idle time
 * - `<tag>:<m|u|p|r|e>:<yyyymmddhhmm>` per-minute structures, see LIVE_MINUTE_KEYS
 * - `<tag>:scratch`                 short-lived union of the live view's read script
 */
const SESSION_KEY_CACHE = 50_000;

export class LiveKeys {
  /** Session key per visitor id: a visitor comes back within minutes, and SHA-1 per hit adds up. */
  private readonly sessions = new Map<string, string>();

  constructor(readonly tag: string) {}

  session(visitorId: string): string {
    return memo(this.sessions, visitorId, SESSION_KEY_CACHE, this.sessionKey);
  }
  private readonly sessionKey = (visitorId: string) => `${this.tag}:s:${pageDigest(visitorId)}`;
  minute(kind: LiveMinuteKey, minute: number): string {
    return `${this.tag}:${LIVE_MINUTE_KEYS[kind].suffix}:${minuteId(minute)}`;
  }
  get scratch(): string {
    return `${this.tag}:scratch`;
  }
}

/** How a page enters its HyperLogLog's key name: as a digest, never as text from a request. */
export function pageDigest(page: string): string {
  return createHash('sha1').update(page).digest('base64url');
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
