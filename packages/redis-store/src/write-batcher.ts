import type { Redis } from 'ioredis';
import { pageDigest, type AnalyticsKeys } from './keys.js';
import { siteCall, type SiteCallOptions } from './site-call.js';
import { callScript } from './scripts.js';
import { memo } from './memo.js';

/** One event as the tracker counts it. */
export interface EventWrite {
  site: string;
  event: string;
  path: string;
  referrer: string;
  device: string;
  utmSource?: string | undefined;
  utmMedium?: string | undefined;
  utmCampaign?: string | undefined;
  visitorId: string;
  /** Milliseconds since the epoch; decides the minute bucket. */
  receivedAt: number;
}

/** Events per script call; bounds how long one call holds Redis (about 15 commands per event). */
const MAX_EVENTS_PER_CALL = 256;
/**
 * Flushes in flight at once. Events arriving while they are in flight wait for one to finish
 * (group commit): under load batches grow and Redis sees fewer, larger calls; when idle a
 * request still waits for exactly one round trip.
 */
const MAX_IN_FLIGHT = 1;
const CACHE_LIMIT = 20_000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

interface SiteBatch {
  site: string;
  events: EventWrite[];
  done: Deferred<void>;
}

/**
 * Gathers the events of the `track` calls made while the previous write is in flight and
 * writes them with one track-site call per site (all of a site's keys share one hash slot):
 * counters, HyperLogLogs, sessions, the visit counts they decide, the live view and the
 * bucket's pending-index entry, atomically. Each caller's promise settles when Redis has
 * acknowledged every call holding its events, so "answered" means "in Redis".
 */
export class WriteBatcher {
  private open = new Map<string, SiteBatch>();
  private sealed: SiteBatch[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly pageDigests = new Map<string, string>();
  /** Sites this process has put into the sites index (or is putting). */
  private readonly registered = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: AnalyticsKeys,
    private readonly options: SiteCallOptions,
  ) {}

  add(events: readonly EventWrite[]): Promise<void> {
    const waits = new Set<Promise<void>>();
    for (const event of events) {
      let batch = this.open.get(event.site);
      if (!batch) this.open.set(event.site, (batch = { site: event.site, events: [], done: deferred() }));
      batch.events.push(event);
      waits.add(batch.done.promise);
      if (batch.events.length >= MAX_EVENTS_PER_CALL) {
        this.sealed.push(batch);
        this.open.delete(event.site);
      }
    }
    this.schedule();
    return waits.size === 1 ? [...waits][0]! : Promise.all(waits).then(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    if (this.open.size + this.sealed.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.sealed, ...this.open.values()];
    this.sealed = [];
    this.open = new Map();
    this.inFlight++;
    void Promise.all(batches.map((batch) => this.send(batch).then(() => batch.done.resolve(), batch.done.reject))).then(() => {
      this.inFlight--;
      this.schedule();
    });
  }

  private async send(batch: SiteBatch): Promise<void> {
    await this.register(batch.site);
    const call = siteCall(this.keys.site(batch.site), batch.events, this.options, (page) => this.digest(page));
    await callScript(this.redis, 'trackSite', call.keys, call.args);
  }

  /**
   * Puts the site into the sites index, where the flusher finds each site's pending buckets,
   * before this process first writes the site (awaited, so the entry exists before any bucket
   * whatever shard holds it).
   */
  private register(site: string): Promise<unknown> {
    let registered = this.registered.get(site);
    if (!registered) {
      registered = this.redis.sadd(this.keys.sites, site);
      registered.catch(() => this.registered.delete(site)); // the write fails too; retried next time
      this.registered.set(site, registered);
    }
    return registered;
  }

  private digest(page: string): string {
    return memo(this.pageDigests, page, CACHE_LIMIT, pageDigest);
  }
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // each caller observes it through its own await
  return { promise, resolve, reject };
}
