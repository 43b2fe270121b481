/** Limits on every field of an event, checked before anything touches Redis. Characters are UTF-16 code units. */
export const LIMITS = {
  siteLength: 253,
  pathLength: 1_024,
  urlLength: 4_096,
  referrerLength: 2_048,
  eventLength: 64,
  uidLength: 128,
  utmLength: 256,
  userAgentLength: 1_024,
  /** Whole query string of `GET /p.gif`, bytes. */
  queryStringBytes: 8 * 1_024,
  /** Body of `POST /e`, bytes. */
  bodyBytes: 64 * 1_024,
  /** Events in one `POST /e` array. */
  batchEvents: 100,
} as const;

export const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
export const DEFAULT_EVENT = 'pageview';
/**
 * Event names the pipeline derives itself and a page may not send: `visit` and `engaged_visit`
 * are counted from sessions (see VISIT_EVENT in @rta/redis-store).
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set(['visit', 'engaged_visit']);
