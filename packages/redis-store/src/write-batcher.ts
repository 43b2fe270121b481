import type { Redis } from 'ioredis';
import { DIMENSIONS, OTHER, minuteOf, pageDigest, type AnalyticsKeys, type BucketKeys, type BucketRef } from './keys.js';
import { bucketCall, type VisitCount } from './bucket-call.js';
import { liveCall, parseTransitions } from './live-call.js';
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

export interface WriteBatcherOptions {
  maxValuesPerDimension: number;
  /** Write sessions (visits) and the live view; absent = counters only. */
  live?: { sessionIdleMinutes: number; cap: number };
}

/** Events per script call; bounds how long one call holds Redis (about 15 commands per event). */
const MAX_EVENTS_PER_CALL = 256;
/**
 * Flushes in flight at once. Events arriving while they are in flight wait for one to finish
 * (group commit): under load batches grow and Redis sees fewer, larger calls; when idle a
 * request still waits for exactly one round trip.
 */
const MAX_IN_FLIGHT = 1;
/** The pending-index entry of a bucket is rewritten at most this often, milliseconds. */
const PENDING_REFRESH_MS = 1_000;
const CACHE_LIMIT = 20_000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

interface BucketBatch {
  bucket: BucketRef;
  member: string;
  events: EventWrite[];
  visits: VisitCount[];
  done: Deferred<void>;
}

/** A site's events of one turn for the live script; settles with each visitor's follow-up write. */
interface SiteBatch {
  site: string;
  events: EventWrite[];
  done: Deferred<Map<string, Promise<void>>>;
}

/**
 * Gathers the events of every `track` call made in one event-loop turn and writes them on the
 * next turn, pipelined on one connection: one track-batch call per (site, minute) bucket and,
 * with `live`, one track-live call per site (sessions and live view, another slot). When the
 * live call reports visits that started or got their second hit, a second track-batch call
 * counts them in the bucket of the visit's first minute (see track-live-n.lua for why that
 * takes a second round trip). Each caller's promise settles when Redis has acknowledged every
 * call holding its events, its visitors' sessions and their visit counts, so "answered" still
 * means "in Redis".
 *
 * The bucket's pending-index entry (ZADD) is sent before its counters, on the same connection,
 * and then at most once a second: Redis applies (and its AOF keeps) commands in order, so
 * counters that survive a restart always have their index entry. Buckets of earlier minutes
 * get the entry again after their counters (see `send`).
 */
export class WriteBatcher {
  private open = new Map<string, BucketBatch>();
  private openSites = new Map<string, SiteBatch>();
  private sealed: BucketBatch[] = [];
  private sealedSites: SiteBatch[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly fixedKeys = new Map<string, { bucketKeys: BucketKeys; fixed: string[] }>();
  private readonly pageDigests = new Map<string, string>();
  private readonly indexedAt = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: AnalyticsKeys,
    private readonly options: WriteBatcherOptions,
  ) {}

  add(events: readonly EventWrite[]): Promise<void> {
    const waits = new Set<Promise<void>>();
    const siteVisitors = new Map<SiteBatch, Set<string>>();
    for (const event of events) {
      const batch = this.bucketBatch({ site: event.site, minute: minuteOf(event.receivedAt) });
      batch.events.push(event);
      waits.add(batch.done.promise);
      if (batch.events.length >= MAX_EVENTS_PER_CALL) {
        this.sealed.push(batch);
        this.open.delete(batch.member);
      }
      if (this.options.live) {
        let site = this.openSites.get(event.site);
        if (!site) this.openSites.set(event.site, (site = { site: event.site, events: [], done: deferred() }));
        site.events.push(event);
        let visitors = siteVisitors.get(site);
        if (!visitors) siteVisitors.set(site, (visitors = new Set()));
        visitors.add(event.visitorId);
        if (site.events.length >= MAX_EVENTS_PER_CALL) {
          this.sealedSites.push(site);
          this.openSites.delete(event.site);
        }
      }
    }
    for (const [site, visitors] of siteVisitors) {
      waits.add(site.done.promise.then((followUps) => Promise.all([...visitors].map((v) => followUps.get(v))).then(() => undefined)));
    }
    this.schedule();
    return waits.size === 1 ? [...waits][0]! : Promise.all(waits).then(() => undefined);
  }

  private bucketBatch(bucket: BucketRef): BucketBatch {
    const member = this.keys.member(bucket);
    let batch = this.open.get(member);
    if (!batch) this.open.set(member, (batch = { bucket, member, events: [], visits: [], done: deferred() }));
    return batch;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    if (this.open.size + this.sealed.length + this.openSites.size + this.sealedSites.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.sealed, ...this.open.values()];
    const sites = [...this.sealedSites, ...this.openSites.values()];
    this.sealed = [];
    this.open = new Map();
    this.sealedSites = [];
    this.openSites = new Map();
    const sends: Promise<unknown>[] = [];
    for (const batch of batches) sends.push(this.send(batch).then(() => batch.done.resolve(), batch.done.reject));
    for (const site of sites) sends.push(this.sendLive(site).then(site.done.resolve, site.done.reject));
    this.inFlight++;
    void Promise.all(sends).then(() => {
      this.inFlight--;
      this.schedule();
    });
  }

  /** The live call of a site, then the visit counts it reports, grouped per bucket. */
  private async sendLive(site: SiteBatch): Promise<Map<string, Promise<void>>> {
    const live = this.options.live!;
    const call = liveCall(this.keys.live(site.site), site.events, live);
    const transitions = parseTransitions(await callScript(this.redis, 'trackLive', call.keys, call.args), call.visitorIds);
    const followUps = new Map<string, Promise<void>>();
    const batches = new Map<string, { batch: BucketBatch; visitors: string[] }>();
    for (const t of transitions) {
      const bucket = { site: site.site, minute: t.minute };
      const member = this.keys.member(bucket);
      let entry = batches.get(member);
      if (!entry) batches.set(member, (entry = { batch: { bucket, member, events: [], visits: [], done: deferred() }, visitors: [] }));
      entry.batch.visits.push({ kind: t.kind, entryPage: t.entryPage });
      entry.visitors.push(t.visitorId);
    }
    for (const { batch, visitors } of batches.values()) {
      const sent = this.send(batch);
      sent.catch(() => undefined); // observed by the callers through followUps
      for (const visitor of visitors) {
        const previous = followUps.get(visitor);
        followUps.set(visitor, previous ? Promise.all([previous, sent]).then(() => undefined) : sent);
      }
    }
    return followUps;
  }

  private async send(batch: BucketBatch): Promise<void> {
    const now = Date.now();
    if (now - (this.indexedAt.get(batch.member) ?? -Infinity) >= PENDING_REFRESH_MS) {
      if (this.indexedAt.size > CACHE_LIMIT) this.indexedAt.clear();
      this.indexedAt.set(batch.member, now);
      this.redis.zadd(this.keys.pending, 'NX', batch.bucket.minute, batch.member).catch(() => {
        this.indexedAt.delete(batch.member); // the script call below fails too; retry next time
      });
    }
    const { bucketKeys, fixed } = this.bucketKeys(batch);
    const call = bucketCall(bucketKeys, fixed, batch.events, batch.visits, this.options.maxValuesPerDimension, (page) => this.digest(page));
    await callScript(this.redis, 'trackBatch', call.keys, call.args);
    // A bucket of an earlier minute (a visit's later hit counted in its first minute, or a late
    // write) may be retired by a flusher meanwhile: the flusher removes the index entry, checks
    // the bucket is empty, and puts the entry back if not. Writing the entry again after the
    // counters closes the gap between its check and our write.
    // The counters are in by now, so a failure here must not fail the request (a client retry
    // would count twice); the entry written before them still indexes the bucket.
    if (batch.bucket.minute < minuteOf(now)) {
      await this.redis.zadd(this.keys.pending, 'NX', batch.bucket.minute, batch.member).catch(() => undefined);
    }
  }

  /** The 12 fixed keys of a bucket (see track-batch-n.lua), cached per bucket. */
  private bucketKeys(batch: BucketBatch): { bucketKeys: BucketKeys; fixed: string[] } {
    return memo(this.fixedKeys, batch.member, CACHE_LIMIT, () => {
      const k = this.keys.bucket(batch.bucket);
      return {
        bucketKeys: k,
        fixed: [k.generation, k.eventCountBase, k.siteHllBase, k.pageHllBase(OTHER), ...DIMENSIONS.map((d) => k.counterBase(d))],
      };
    });
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
