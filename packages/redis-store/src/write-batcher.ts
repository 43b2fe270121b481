import type { Redis } from 'ioredis';
import { DIMENSIONS, OTHER, minuteOf, pageDigest, type AnalyticsKeys, type BucketKeys, type BucketRef } from './keys.js';
import { callScript } from './scripts.js';

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
/** The pending-index entry of a bucket is rewritten at most this often, milliseconds. */
const PENDING_REFRESH_MS = 1_000;
const CACHE_LIMIT = 20_000;

interface BucketBatch {
  bucket: BucketRef;
  member: string;
  events: EventWrite[];
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the events of every `track` call made in one event-loop turn and writes them on the
 * next turn with one script call per (site, minute) bucket. Each caller's promise settles when
 * Redis has acknowledged the calls holding its events, so "answered" still means "in Redis".
 *
 * The bucket's pending-index entry (ZADD) is sent before its counters, on the same connection,
 * and then at most once a second: Redis applies (and its AOF keeps) commands in order, so
 * counters that survive a restart always have their index entry.
 */
export class WriteBatcher {
  private open = new Map<string, BucketBatch>();
  private sealed: BucketBatch[] = [];
  private scheduled = false;
  private readonly fixedKeys = new Map<string, { bucketKeys: BucketKeys; fixed: string[] }>();
  private readonly pageDigests = new Map<string, string>();
  private readonly indexedAt = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: AnalyticsKeys,
    private readonly maxValuesPerDimension: number,
  ) {}

  add(events: readonly EventWrite[]): Promise<void> {
    const waits = new Set<Promise<void>>();
    for (const event of events) {
      const bucket: BucketRef = { site: event.site, minute: minuteOf(event.receivedAt) };
      const member = this.keys.member(bucket);
      let batch = this.open.get(member);
      if (!batch) this.open.set(member, (batch = newBatch(bucket, member)));
      batch.events.push(event);
      waits.add(batch.done);
      if (batch.events.length >= MAX_EVENTS_PER_CALL) {
        this.sealed.push(batch);
        this.open.delete(member);
      }
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return waits.size === 1 ? [...waits][0]! : Promise.all(waits).then(() => undefined);
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.sealed, ...this.open.values()];
    this.sealed = [];
    this.open = new Map();
    for (const batch of batches) this.send(batch).then(batch.resolve, batch.reject);
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
    const keys = [...fixed];
    const pageKeyIndex = new Map<string, number>();
    const eventIndex = new Map<string, { index: number; count: number }>();
    const counters = new Map<string, { event: number; dimension: number; value: string; count: number }>();
    const visitors = new Map<string, { event: number; keyIndex: number; page: string; ids: string[] }>();
    const count = (event: number, dimension: number, value: string | undefined) => {
      if (!value) return;
      const id = `${event}\x1f${dimension}\x1f${value}`;
      const counter = counters.get(id);
      if (counter) counter.count++;
      else counters.set(id, { event, dimension, value, count: 1 });
    };
    for (const e of batch.events) {
      let name = eventIndex.get(e.event);
      if (!name) eventIndex.set(e.event, (name = { index: eventIndex.size + 1, count: 0 }));
      name.count++;
      let keyIndex = pageKeyIndex.get(e.path);
      if (keyIndex === undefined) {
        keys.push(bucketKeys.pageHllBaseOfDigest(this.digest(e.path)));
        keyIndex = keys.length; // KEYS are 1-based in Lua
        pageKeyIndex.set(e.path, keyIndex);
      }
      count(name.index, 2, e.path);
      count(name.index, 3, e.referrer);
      count(name.index, 4, e.device);
      count(name.index, 5, e.utmSource);
      count(name.index, 6, e.utmMedium);
      count(name.index, 7, e.utmCampaign);
      const group = `${name.index}\x1f${e.path}`;
      const list = visitors.get(group);
      if (list) list.ids.push(e.visitorId);
      else visitors.set(group, { event: name.index, keyIndex, page: e.path, ids: [e.visitorId] });
    }
    const args: Array<string | number> = [this.maxValuesPerDimension, batch.events.length, eventIndex.size];
    for (const [name, { count: n }] of eventIndex) args.push(name, n);
    args.push(counters.size);
    for (const c of counters.values()) args.push(c.event, c.dimension, c.value, c.count);
    args.push(visitors.size);
    for (const v of visitors.values()) args.push(v.event, v.keyIndex, v.page, v.ids.length, ...v.ids);
    await callScript(this.redis, 'trackBatch', keys, args);
  }

  /** The 11 fixed keys of a bucket (see track-batch-n.lua), cached per bucket. */
  private bucketKeys(batch: BucketBatch): { bucketKeys: BucketKeys; fixed: string[] } {
    let entry = this.fixedKeys.get(batch.member);
    if (!entry) {
      const k = this.keys.bucket(batch.bucket);
      entry = {
        bucketKeys: k,
        fixed: [k.generation, k.eventCountBase, k.siteHllBase, k.pageHllBase(OTHER), ...DIMENSIONS.map((d) => k.counterBase(d))],
      };
      if (this.fixedKeys.size > CACHE_LIMIT) this.fixedKeys.clear();
      this.fixedKeys.set(batch.member, entry);
    }
    return entry;
  }

  private digest(page: string): string {
    let digest = this.pageDigests.get(page);
    if (digest === undefined) {
      digest = pageDigest(page);
      if (this.pageDigests.size > CACHE_LIMIT) this.pageDigests.clear();
      this.pageDigests.set(page, digest);
    }
    return digest;
  }
}

function newBatch(bucket: BucketRef, member: string): BucketBatch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => undefined); // each caller observes it through its own await
  return { bucket, member, events: [], done, resolve, reject };
}
