/** The fields a page sends, by pixel query string or beacon JSON. Anything else is ignored. */
export interface RawEvent {
  site?: unknown;
  /** Page path, optionally with its query string (for `utm_*`). */
  path?: unknown;
  /** Full page URL; its path is used when `path` is absent, its query for `utm_*`. */
  url?: unknown;
  /** `document.referrer`. */
  ref?: unknown;
  event?: unknown;
  uid?: unknown;
  /**
   * `true`: count the event even when the user agent looks like a bot (what the script sends
   * with `data-allow-bots`, to verify an installation with a headless browser).
   */
  allow_bots?: unknown;
}

/** What the request adds: the tracker reads these from headers and the socket. */
export interface RequestContext {
  userAgent: string;
  /** Client address; used only inside the visitor hash, never stored. */
  ip: string;
  /** Path of the `Referer` header, the pixel's fallback for a missing `path`. */
  refererPath?: string;
  /** Server clock, milliseconds since the epoch. */
  receivedAt: number;
}

export type Device = 'desktop' | 'mobile' | 'tablet';

/** A validated event with everything derived, ready to become Redis writes. */
export interface TrackedEvent {
  site: string;
  event: string;
  path: string;
  /** Referrer host without `www.`, or `(direct)` for none or same site. */
  referrer: string;
  device: Device;
  /** Browser name and major version, or `(unknown)` (see classifyUserAgent). */
  browser: string;
  /** Operating system name, or `(unknown)`. */
  os: string;
  /** ISO 3166-1 alpha-2 country of the client address, or `(unknown)`; the address is not kept. */
  country: string;
  /** Region and city, only from a database that has them (`GEOIP_DATABASE`). */
  region?: string;
  city?: string;
  utmSource?: string;
  utmMedium?: string;
  utmCampaign?: string;
  /** `u:<uid>` when the page gave one, otherwise `h:<salted hash>`. */
  visitorId: string;
  receivedAt: number;
}

/** Stable rejection codes: sent in `X-Analytics-Rejected` and counted in `/metrics`. */
export const REJECTION_REASONS = [
  'missing_site',
  'unknown_site',
  'invalid_field_type',
  'missing_path',
  'invalid_path',
  'path_too_long',
  'invalid_url',
  'url_too_long',
  'invalid_referrer',
  'referrer_too_long',
  'invalid_event',
  'reserved_event',
  'invalid_uid',
  'uid_too_long',
  'invalid_utm',
  'query_too_long',
  'body_too_large',
  'invalid_json',
  'invalid_body',
  'empty_batch',
  'batch_too_large',
  'unsupported_media_type',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export type Validation =
  | { ok: true; event: TrackedEvent }
  | { ok: false; reason: RejectionReason };
