import { DEFAULT_EVENT, EVENT_NAME, LIMITS, RESERVED_EVENTS } from './limits.js';
import type { RawEvent, RejectionReason, RequestContext, TrackedEvent } from './event.js';
import { UNKNOWN_PLACE, type Place } from './geo.js';
import { classifyUserAgent } from './user-agent.js';
import { visitorId } from './visitor.js';

export interface ValidateOptions {
  /** Sites accepted (lower case). Anything else is rejected with `unknown_site`. */
  sites: ReadonlySet<string>;
  /** Today's visitor salt. */
  salt: string;
  /** Where a client address is (a GeoDatabase); without it every country is `(unknown)`. */
  geo?: { lookup(ip: string): Place } | undefined;
}

export type EventValidation =
  | { ok: true; event: TrackedEvent; bot: boolean }
  | { ok: false; reason: RejectionReason };

// C0 and C1 control characters, DEL, and line/paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

class Rejected extends Error {
  constructor(readonly reason: RejectionReason) {
    super(reason);
  }
}

/** Checks one event against every limit and derives what the counters need. Pure apart from the user-agent and referrer caches. */
export function validateEvent(raw: RawEvent, context: RequestContext, options: ValidateOptions): EventValidation {
  try {
    return { ok: true, ...derive(raw, context, options) };
  } catch (error) {
    if (error instanceof Rejected) return { ok: false, reason: error.reason };
    throw error;
  }
}

function derive(raw: RawEvent, context: RequestContext, options: ValidateOptions): { event: TrackedEvent; bot: boolean } {
  const siteInput = optionalString(raw.site);
  if (siteInput === undefined || siteInput === '') throw new Rejected('missing_site');
  const site = siteInput.toLowerCase();
  if (siteInput.length > LIMITS.siteLength || !options.sites.has(site)) throw new Rejected('unknown_site');

  const url = optionalString(raw.url);
  let pageUrl: URL | undefined;
  if (url !== undefined && url !== '') {
    if (url.length > LIMITS.urlLength) throw new Rejected('url_too_long');
    if (CONTROL.test(url) || !url.isWellFormed()) throw new Rejected('invalid_url');
    pageUrl = URL.canParse(url) ? new URL(url) : undefined;
    if (!pageUrl || !/^https?:$/.test(pageUrl.protocol)) throw new Rejected('invalid_url');
  }

  const pathInput = optionalString(raw.path);
  let path: string;
  let query = '';
  if (pathInput !== undefined && pathInput !== '') {
    if (pathInput.length > LIMITS.pathLength) throw new Rejected('path_too_long');
    if (!pathInput.startsWith('/') || CONTROL.test(pathInput) || !pathInput.isWellFormed()) {
      throw new Rejected('invalid_path');
    }
    const cut = pathInput.search(/[?#]/);
    path = cut < 0 ? pathInput : pathInput.slice(0, cut);
    if (cut >= 0 && pathInput[cut] === '?') query = pathInput.slice(cut).split('#')[0] ?? '';
  } else if (pageUrl) {
    path = decodePath(pageUrl.pathname);
  } else if (context.refererPath) {
    path = context.refererPath;
  } else {
    throw new Rejected('missing_path');
  }
  if (path.length > LIMITS.pathLength) throw new Rejected('path_too_long');
  if (CONTROL.test(path) || !path.isWellFormed()) throw new Rejected('invalid_path');
  if (pageUrl && query === '') query = pageUrl.search;

  const eventName = optionalString(raw.event) || DEFAULT_EVENT;
  if (!EVENT_NAME.test(eventName)) throw new Rejected('invalid_event');
  if (RESERVED_EVENTS.has(eventName)) throw new Rejected('reserved_event');

  const uid = optionalString(raw.uid);
  if (uid !== undefined && uid.length > LIMITS.uidLength) throw new Rejected('uid_too_long');
  if (uid !== undefined && (uid === '' || CONTROL.test(uid) || !uid.isWellFormed())) throw new Rejected('invalid_uid');

  const allowBots = raw.allow_bots ?? false;
  if (typeof allowBots !== 'boolean') throw new Rejected('invalid_field_type');

  const referrer = referrerHost(optionalString(raw.ref), site);
  const userAgent = context.userAgent.slice(0, LIMITS.userAgentLength);
  const { bot, device, browser, os } = classifyUserAgent(userAgent);
  const utm = query === '' ? undefined : new URLSearchParams(query);
  const place = options.geo?.lookup(context.ip);

  return {
    bot: bot && !allowBots,
    event: {
      site,
      event: eventName,
      path,
      referrer,
      device,
      browser,
      os,
      country: place?.country ?? UNKNOWN_PLACE,
      region: place?.region,
      city: place?.city,
      utmSource: utm && utmValue(utm.get('utm_source')),
      utmMedium: utm && utmValue(utm.get('utm_medium')),
      utmCampaign: utm && utmValue(utm.get('utm_campaign')),
      visitorId: visitorId({ uid, salt: options.salt, site, ip: context.ip, userAgent }),
      receivedAt: context.receivedAt,
    },
  };
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Rejected('invalid_field_type');
  return value;
}

/** Host of each valid referrer seen lately: the same few referrers arrive over and over, and URL parsing is the costly part. */
const referrerHosts = new Map<string, string>();
const REFERRER_CACHE_SIZE = 10_000;

/** `(direct)` for no referrer or a link from the site itself; otherwise the host without `www.`. */
export function referrerHost(ref: string | undefined, site: string): string {
  if (ref === undefined || ref === '') return '(direct)';
  let host = referrerHosts.get(ref);
  if (host === undefined) {
    if (ref.length > LIMITS.referrerLength) throw new Rejected('referrer_too_long');
    if (CONTROL.test(ref) || !ref.isWellFormed()) throw new Rejected('invalid_referrer');
    const parsed = URL.parse(ref);
    if (parsed === null) throw new Rejected('invalid_referrer');
    host = parsed.hostname.toLowerCase().replace(/^www\./, '');
    if (host === '') throw new Rejected('invalid_referrer');
    if (referrerHosts.size >= REFERRER_CACHE_SIZE) referrerHosts.clear();
    referrerHosts.set(ref, host);
  }
  if (host === site || host.endsWith(`.${site}`) || site.endsWith(`.${host}`)) return '(direct)';
  return host;
}

function utmValue(value: string | null): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (trimmed.length > LIMITS.utmLength || CONTROL.test(trimmed) || !trimmed.isWellFormed()) {
    throw new Rejected('invalid_utm');
  }
  return trimmed;
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}
