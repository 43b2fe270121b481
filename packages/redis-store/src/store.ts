import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AnalyticsKeys, BucketKeys, DIMENSIONS, minuteId, minuteOf, parseMinuteId, type BucketRef, type Dimension } from './keys.js';
import { WriteBatcher, type EventWrite } from './write-batcher.js';
import { liveDefaults, type LiveOptions } from './live-options.js';
import { readLiveView, type LiveView } from './live-view.js';
import { callScript, defineScripts } from './scripts.js';

export interface AnalyticsStoreOptions {
  /** Prefix of every key, inside the hash tags. Default `rta`. */
  prefix?: string;
  /** Cardinality guard: distinct values per site, dimension and minute. Default 10,000. */
  maxValuesPerDimension?: number;
  /** Fields per HSCAN call and keys per pipelined read or UNLINK while flushing. Default 1,000. */
  scanCount?: number;
  /**
   * Also keep sessions (visits: the `visit` and `engaged_visit` counters) and the live view.
   * The tracker turns this on; tools that only flush or write synthetic minutes leave it off.
   * Default off.
   */
  live?: LiveOptions;
}

export const storeDefaults = { prefix: 'rta', maxValuesPerDimension: 10_000, scanCount: 1_000 } as const;

/** A claimed generation of a bucket, identified by its batch id until it is acknowledged. */
export interface Claim {
  bucket: BucketRef;
  generation: number;
  batchId: string;
}

/** Everything a claim holds, shaped like the warehouse's `MinuteBatch`. */
export interface ClaimedBatch {
  batchId: string;
  site: string;
  minute: Date;
  /** Events counted in this claim. */
  events: number;
  counters: Array<{ event: string; dimension: Dimension; value: string; count: bigint }>;
  visitors: Array<{ dimension: 'total' | 'page'; value: string; visitors: number; sketch: Uint8Array }>;
}

const FIELD_SEPARATOR = '\x1f';
/** Minute ids have four-digit years: from here on, a bound means "every minute". */
const LAST_MINUTE_ID_TIME = Date.UTC(9999, 11, 31, 23, 59);

/**
 * Redis side of the pipeline: the tracker's writes, and the flusher's claim → read → delete.
 * Crash safety comes from the order: a claim only moves the tracker to a new generation, the
 * claimed generation stays in Redis (listed in the bucket's claims) until `deleteClaim`, which
 * the flusher calls only after the warehouse committed the batch.
 */
export class AnalyticsStore {
  readonly keys: AnalyticsKeys;
  private readonly max: number;
  private readonly scanCount: number;
  private readonly writes: WriteBatcher;
  private readonly sessionIdleMinutes: number;

  constructor(
    readonly redis: Redis,
    options: AnalyticsStoreOptions = {},
  ) {
    this.keys = new AnalyticsKeys(options.prefix ?? storeDefaults.prefix);
    this.max = options.maxValuesPerDimension ?? storeDefaults.maxValuesPerDimension;
    this.scanCount = options.scanCount ?? storeDefaults.scanCount;
    defineScripts(redis);
    this.sessionIdleMinutes = options.live?.sessionIdleMinutes ?? liveDefaults.sessionIdleMinutes;
    this.writes = new WriteBatcher(redis, this.keys, {
      maxValuesPerDimension: this.max,
      live: options.live && {
        sessionIdleMinutes: this.sessionIdleMinutes,
        cap: options.live.maxMembersPerMinute ?? this.max,
      },
    });
  }

  /** The live view of a site at `now` (ms), from Redis only; `top` entries per top list. */
  readLive(site: string, now: number, top = 10): Promise<LiveView> {
    return readLiveView(this.redis, this.keys.live(site), site, { now, sessionIdleMinutes: this.sessionIdleMinutes, top });
  }

  /**
   * Counts events and resolves once Redis acknowledged them. Concurrent calls share script
   * calls: see WriteBatcher.
   */
  track(events: readonly EventWrite[]): Promise<void> {
    return events.length === 0 ? Promise.resolve() : this.writes.add(events);
  }

  /** Buckets holding data or open claims whose minute starts before `before` (ms), oldest first. */
  async pendingBuckets(before: number): Promise<BucketRef[]> {
    // Pending indexes are scored by minute id (yyyymmddhhmm), which orders like time.
    const last = before >= LAST_MINUTE_ID_TIME ? '+inf' : minuteId(minuteOf(before - 1));
    // One command per site, all sent before the first reply (each index is in its site's slot).
    const sites = await this.redis.smembers(this.keys.sites);
    const [legacy, ...perSite] = await Promise.all([
      this.redis.zrangebyscore(this.keys.legacyPending, '-inf', `(${before}`),
      ...sites.map((site) => this.redis.zrangebyscore(this.keys.site(site).pending, '-inf', last)),
    ]);
    const buckets: BucketRef[] = sites.flatMap((site, i) => perSite[i]!.map((id) => ({ site, minute: parseMinuteId(id) })));
    buckets.push(...legacy!.map((member) => this.keys.parseLegacyMember(member)));
    return buckets.sort((a, b) => a.minute - b.minute || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0));
  }

  /** Takes the bucket's flush lock; returns the holder token, or null when another flush has it. */
  async lock(bucket: BucketRef, ttlMs: number): Promise<string | null> {
    const token = randomBytes(12).toString('base64url');
    const ok = await this.redis.set(this.keys.bucket(bucket).lock, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  async extendLock(bucket: BucketRef, token: string, ttlMs: number): Promise<boolean> {
    return (await callScript(this.redis, 'extendLock', [this.keys.bucket(bucket).lock], [token, ttlMs])) === 1;
  }

  async unlock(bucket: BucketRef, token: string): Promise<void> {
    await callScript(this.redis, 'releaseLock', [this.keys.bucket(bucket).lock], [token]);
  }

  /** Claims that were taken but not yet acknowledged (a flush died, or is running), oldest first. */
  async openClaims(bucket: BucketRef): Promise<Claim[]> {
    const claims = await this.redis.hgetall(this.keys.bucket(bucket).claims);
    return Object.entries(claims)
      .map(([generation, batchId]) => ({ bucket, generation: Number(generation), batchId }))
      .sort((a, b) => a.generation - b.generation);
  }

  /** Atomically claims the bucket's current generation; null when it holds no event. */
  async claim(bucket: BucketRef): Promise<Claim | null> {
    const keys = this.keys.bucket(bucket);
    const prefix = `${bucket.site}/${new Date(bucket.minute).toISOString().slice(0, 16)}Z/`;
    const result = (await callScript(
      this.redis,
      'claim',
      [keys.generation, keys.claims, keys.eventCountBase],
      [prefix, randomBytes(6).toString('hex')],
    )) as [number, string] | null;
    return result ? { bucket, generation: Number(result[0]), batchId: result[1] } : null;
  }

  /**
   * Reads a claimed generation with commands that each touch a bounded amount of data (HSCAN
   * pages, single HyperLogLogs), so a flush never blocks the tracker behind one big command.
   */
  async readClaim(claim: Claim): Promise<ClaimedBatch> {
    const keys = this.keys.bucket(claim.bucket);
    const at = (base: string) => BucketKeys.at(base, claim.generation);
    const counters: ClaimedBatch['counters'] = [];
    for (const dimension of DIMENSIONS) {
      for (const [field, count] of await this.scanHash(at(keys.counterBase(dimension)))) {
        const cut = field.indexOf(FIELD_SEPARATOR);
        if (cut === 0) continue; // the hash-table marker of track-site-n.lua, not a counter
        counters.push({ event: field.slice(0, cut), dimension, value: field.slice(cut + 1), count: BigInt(count) });
      }
    }
    const pages = [...new Set(counters.filter((c) => c.dimension === 'page').map((c) => c.value))];
    const hlls = [
      { dimension: 'total' as const, value: '', key: at(keys.siteHllBase) },
      ...pages.map((page) => ({ dimension: 'page' as const, value: page, key: at(keys.pageHllBase(page)) })),
    ];
    const visitors: ClaimedBatch['visitors'] = [];
    for (let i = 0; i < hlls.length; i += this.scanCount) {
      const chunk = hlls.slice(i, i + this.scanCount);
      const pipeline = this.redis.pipeline();
      for (const h of chunk) pipeline.getBuffer(h.key).pfcount(h.key);
      const replies = await pipeline.exec();
      chunk.forEach((h, j) => {
        const [sketchError, sketch] = replies![2 * j]!;
        const [countError, count] = replies![2 * j + 1]!;
        if (sketchError || countError) throw sketchError ?? countError;
        if (sketch) visitors.push({ dimension: h.dimension, value: h.value, visitors: Number(count), sketch: sketch as Buffer });
      });
    }
    const events = Number((await this.redis.get(at(keys.eventCountBase))) ?? 0);
    return {
      batchId: claim.batchId,
      site: claim.bucket.site,
      minute: new Date(claim.bucket.minute),
      events,
      counters,
      visitors,
    };
  }

  /** Deletes a claimed generation after the warehouse committed it. Safe to repeat. */
  async deleteClaim(claim: Claim, batch: Pick<ClaimedBatch, 'visitors'>): Promise<void> {
    const keys = this.keys.bucket(claim.bucket);
    const at = (base: string) => BucketKeys.at(base, claim.generation);
    const pageKeys = batch.visitors.filter((v) => v.dimension === 'page').map((v) => at(keys.pageHllBase(v.value)));
    for (let i = 0; i < pageKeys.length; i += this.scanCount) {
      await this.redis.unlink(...pageKeys.slice(i, i + this.scanCount));
    }
    // The claim entry goes last and with the rest, so a crash before it repeats a harmless delete.
    await this.redis
      .multi()
      .unlink(at(keys.eventCountBase), at(keys.siteHllBase), ...DIMENSIONS.map((d) => at(keys.counterBase(d))))
      .hdel(keys.claims, String(claim.generation))
      .exec();
  }

  /** Drops an empty bucket from its pending index; false when it still holds data. */
  async retireBucket(bucket: BucketRef): Promise<boolean> {
    const keys = this.keys.bucket(bucket);
    const bucketKeys = [keys.generation, keys.claims, keys.eventCountBase];
    if (!bucket.legacyKeys) {
      const pending = this.keys.site(bucket.site).pending;
      return (await callScript(this.redis, 'retireBucket', [...bucketKeys, pending], [minuteId(bucket.minute)])) === 1;
    }
    // The legacy index is in another slot. Its entry is removed first and put back if the bucket
    // still holds data, so a tracker of the old version still writing (which re-adds the entry
    // after its counters) never leaves an event unindexed.
    const member = this.keys.legacyMember(bucket);
    await this.redis.zrem(this.keys.legacyPending, member);
    if ((await callScript(this.redis, 'retireBucket', bucketKeys, [])) === 1) return true;
    await this.redis.zadd(this.keys.legacyPending, bucket.minute, member);
    return false;
  }

  /** Events waiting in a bucket: its current generation plus open claims. */
  async bucketEvents(bucket: BucketRef): Promise<number> {
    const keys = this.keys.bucket(bucket);
    const generation = Number((await this.redis.get(keys.generation)) ?? 0);
    const claims = await this.openClaims(bucket);
    const gens = [generation, ...claims.map((c) => c.generation)];
    const counts = await this.redis.mget(...gens.map((g) => BucketKeys.at(keys.eventCountBase, g)));
    return counts.reduce((sum, c) => sum + Number(c ?? 0), 0);
  }

  /** The visitor salt of a UTC day (`yyyy-mm-dd`), created on first use, kept 48 hours. */
  async daySalt(day: string): Promise<string> {
    const fresh = randomBytes(16).toString('base64url');
    const existing = await this.redis.set(this.keys.salt(day), fresh, 'EX', 48 * 3600, 'NX', 'GET');
    return existing ?? fresh;
  }

  async recordFlush(summary: object): Promise<void> {
    await this.redis.set(this.keys.lastFlush, JSON.stringify(summary));
  }

  async lastFlush(): Promise<unknown> {
    const text = await this.redis.get(this.keys.lastFlush);
    return text === null ? null : JSON.parse(text);
  }

  private async scanHash(key: string): Promise<Map<string, string>> {
    // HSCAN may return a field twice while the hash rehashes; the generation is frozen, so the
    // repeated value is identical and a map keeps it once.
    const fields = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', this.scanCount);
      for (let i = 0; i < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
      cursor = next;
    } while (cursor !== '0');
    return fields;
  }
}
