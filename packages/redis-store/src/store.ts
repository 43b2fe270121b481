import { randomBytes } from 'node:crypto';
import { estimateRedisHll } from '@rta/hll';
import {
  AnalyticsKeys,
  COMBINATION_MAX_LENGTH,
  DIMENSIONS,
  ENGAGED_VISIT_EVENT,
  PAGEVIEW_EVENT,
  VISIT_EVENT,
  OTHER,
  minuteId,
  minuteOf,
  pageDigest,
  parseGeneration,
  parseMinuteId,
  type BucketRef,
  type Dimension,
} from './keys.js';
import { WriteBatcher, type EventWrite, type WriteOptions } from './write-batcher.js';
import { liveDefaults, type LiveOptions } from './live-options.js';
import { readLiveView, type LiveView } from './live-view.js';
import { callScript, defineScripts, scriptCommand } from './scripts.js';
import { EVERYSEC_WAIT_MS, claimDurability, type ClaimReplicas } from './durability.js';
import { execPipeline, masterNodes, parseInfo, servingHealth, type RedisClient } from './redis-client.js';

type Reply = [Error | null, unknown];

export interface AnalyticsStoreOptions {
  /** Prefix of every key, inside the hash tags. Default `rta`. */
  prefix?: string;
  /** Cardinality guard: distinct values per site, dimension and minute. Default 10,000. */
  maxValuesPerDimension?: number;
  /** Fields per HSCAN call and keys per MGET or UNLINK while flushing. Default 1,000. */
  scanCount?: number;
  /**
   * Also keep sessions (visits: the `visit` and `engaged_visit` counters) and the live view.
   * The tracker turns this on; tools that only flush or write synthetic minutes leave it off.
   * Default off.
   */
  live?: LiveOptions;
  /** The tracker's writes: replicas to wait for, and the session cap's report. */
  writes?: Pick<WriteOptions, 'waitReplicas' | 'waitTimeoutMs' | 'onSessionsCapped'>;
}

export const storeDefaults = { prefix: 'rta', maxValuesPerDimension: 10_000, scanCount: 1_000 } as const;

/** A claimed generation of a bucket, identified by its batch id until it is acknowledged. */
export interface Claim {
  bucket: BucketRef;
  generation: number;
  batchId: string;
}

/** A counter of a claimed generation. */
export interface ClaimedCounter {
  event: string;
  dimension: Dimension;
  value: string;
  count: bigint;
}

/** Everything a claim holds, shaped like the warehouse's `MinuteBatch`. */
export interface ClaimedBatch {
  batchId: string;
  site: string;
  minute: Date;
  /** Events counted in this claim. */
  events: number;
  counters: ClaimedCounter[];
  /** `combination`: the page views' visitors of one combination value (not for `(other)`). */
  visitors: Array<{ dimension: 'total' | 'page' | 'event' | 'combination' | 'event_combination'; value: string; visitors: number; sketch: Uint8Array }>;
  /**
   * Engaged visits of visits that started in an earlier minute, by that minute: they belong to
   * the minute the visit started, and load as batches of their own (`<batch id>+<minute id>`).
   */
  earlier: Array<{ batchId: string; minute: Date; counters: ClaimedCounter[] }>;
  /** The page, event and combination HyperLogLog keys of the claim, which `deleteClaim` deletes. */
  sketchKeys: string[];
}

/** PFCOUNT of a sketch read with GET; a string that is not a HyperLogLog fails the read, naming the batch. */
function visitorsOf(sketch: Buffer, batchId: string): number {
  try {
    return estimateRedisHll(sketch);
  } catch (error) {
    throw new Error(`a visitor sketch of batch ${batchId} is not a Redis HyperLogLog: ${(error as Error).message}`, { cause: error });
  }
}

/** Why a claim could not be made durable: it stays open, and a later flush loads it. */
export class ClaimNotDurable extends Error {
  override readonly name = 'ClaimNotDurable';
  readonly code = 'CLAIM_NOT_DURABLE';
}

const FIELD_SEPARATOR = '\x1f';
/** Minute ids have four-digit years: from here on, a bound means "every minute". */
const LAST_MINUTE_ID_TIME = Date.UTC(9999, 11, 31, 23, 59);
/**
 * A claim's MGETs or UNLINKs in flight at once (each of `scanCount` keys). Few: Redis answers a
 * client's queued commands in one go, and the tracker's calls wait behind them.
 */
const CHUNKS_IN_FLIGHT = 2;
/** How long a claim may wait for its replicas or its AOF fsync, ms. */
const CLAIM_WAIT_MS = 5_000;

/**
 * Redis side of the pipeline: the tracker's writes, and the flusher's claim → read → delete.
 * Crash safety comes from the order: a claim only moves the tracker to a new generation, the
 * claimed generation stays in Redis (listed in the bucket's claims) until `deleteClaim`, which
 * the flusher calls only after the warehouse committed the batch. Every command touches one
 * slot (a site's hash tag, or one global key), so the same code runs on Redis Cluster.
 */
export class AnalyticsStore {
  readonly keys: AnalyticsKeys;
  private readonly max: number;
  private readonly scanCount: number;
  private readonly writes: WriteBatcher;
  private readonly sessionIdleMinutes: number;
  /** run_id of every master at the last discovery of sites (see pendingBuckets). */
  private discoveredOn = '';

  constructor(
    readonly redis: RedisClient,
    options: AnalyticsStoreOptions = {},
  ) {
    this.keys = new AnalyticsKeys(options.prefix ?? storeDefaults.prefix);
    this.max = options.maxValuesPerDimension ?? storeDefaults.maxValuesPerDimension;
    this.scanCount = options.scanCount ?? storeDefaults.scanCount;
    defineScripts(redis);
    this.sessionIdleMinutes = options.live?.sessionIdleMinutes ?? liveDefaults.sessionIdleMinutes;
    this.writes = new WriteBatcher(redis, this.keys, {
      ...options.writes,
      maxValuesPerDimension: this.max,
      live: options.live && {
        sessionIdleMinutes: this.sessionIdleMinutes,
        cap: options.live.maxMembersPerMinute ?? this.max,
        sessionCap: options.live.sessionCap ?? liveDefaults.sessionCap,
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

  /**
   * Puts sites into the index of sites the flusher reads. Trackers call it at start and
   * periodically, off the request path: one global key, which a Redis restarted empty or a
   * failover may have lost.
   */
  async registerSites(sites: readonly string[]): Promise<void> {
    if (sites.length > 0) await this.redis.sadd(this.keys.sites, ...sites);
  }

  /**
   * Buckets holding data or open claims whose minute starts before `before` (ms), oldest first.
   * The sites come from the index of sites, and, whenever a master is new or restarted since the
   * last look (its run_id changed) or `discover` asks for it, also from a SCAN of every master
   * for sites' pending indexes: a site whose buckets wait in Redis is found even if Redis lost
   * the index of sites.
   */
  async pendingBuckets(before: number, options: { discover?: boolean; onUnreachable?: (site: string, error: Error) => void } = {}): Promise<BucketRef[]> {
    // Pending indexes are scored by minute id (yyyymmddhhmm), which orders like time.
    const last = before >= LAST_MINUTE_ID_TIME ? '+inf' : minuteId(minuteOf(before - 1));
    const sites = new Set(await this.redis.smembers(this.keys.sites));
    const runIds = await this.masterRunIds();
    if (options.discover || runIds !== this.discoveredOn) {
      const found = await this.discoverSites();
      const missing = found.filter((site) => !sites.has(site));
      if (missing.length > 0) await this.registerSites(missing);
      for (const site of missing) sites.add(site);
      this.discoveredOn = runIds;
    }
    const list = [...sites];
    // One command per site, all sent before the first reply (each index is in its site's
    // slot). A site whose master does not answer (a failover in progress) waits for a later
    // flush; the others go on.
    const [legacy, ...perSite] = await Promise.all([
      this.redis.zrangebyscore(this.keys.legacyPending, '-inf', `(${before}`),
      ...list.map((site) =>
        this.redis.zrangebyscore(this.keys.site(site).pending, '-inf', last).catch((error: Error) => {
          if (!options.onUnreachable) throw error;
          options.onUnreachable(site, error);
          return [] as string[];
        }),
      ),
    ]);
    const buckets: BucketRef[] = list.flatMap((site, i) => perSite[i]!.map((id) => ({ site, minute: parseMinuteId(id) })));
    buckets.push(...legacy!.map((member) => this.keys.parseLegacyMember(member)));
    return buckets.sort((a, b) => a.minute - b.minute || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0));
  }

  /** Sites whose pending index exists on some master (a SCAN of each master that answers). */
  async discoverSites(): Promise<string[]> {
    const sites = new Set<string>();
    const pattern = this.keys.pendingPattern;
    await Promise.all(
      masterNodes(this.redis).map(async (node) => {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', this.scanCount);
          for (const key of keys) {
            const site = this.keys.siteOfPending(key);
            if (site) sites.add(site);
          }
          cursor = next;
        } while (cursor !== '0');
      }),
    );
    return [...sites];
  }

  private async masterRunIds(): Promise<string> {
    const ids = await Promise.all(
      masterNodes(this.redis).map(async (node) => parseInfo(await node.info('server')).get('run_id') ?? '?'),
    );
    return ids.sort().join(',');
  }

  /** Takes the bucket's flush lock; returns the holder token, or null when another flush has it. */
  async lock(bucket: BucketRef, ttlMs: number): Promise<string | null> {
    const token = randomBytes(12).toString('base64url');
    const ok = await this.redis.set(this.keys.bucket(bucket).lock, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  /** Extends the lock while this holder still owns it; false when it expired and is gone or taken. */
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
    for (let attempt = 0; attempt < 3; attempt++) {
      const { generation } = parseGeneration(await this.redis.get(keys.generation));
      const [status, gen, batchId] = (await callScript(this.redis, 'claim', [keys.generation, keys.claims, keys.eventCount(generation)], [
        generation,
        prefix,
        randomBytes(6).toString('hex'),
        randomBytes(6).toString('hex'),
      ])) as [number, number, string?];
      if (status === -1) continue; // another claim moved the generation on since the GET
      return status === 0 ? null : { bucket, generation: Number(gen), batchId: batchId! };
    }
    throw new Error(`the generation of ${bucket.site} ${new Date(bucket.minute).toISOString()} kept moving while claiming it`);
  }

  /**
   * Makes everything written to the bucket's master so far durable before a load: the claims
   * and the flush lock this client just set, and so every older claim, since a master's writes
   * replicate and reach its AOF in order. `replicas` replicas must acknowledge them (WAIT), and
   * the master's AOF must have them (WAITAOF where the server has it, Redis ≥ 7.2). Returns
   * when the load may start: now, or for AOF `everysec` without WAITAOF a moment later, after
   * the once-a-second fsync. Throws ClaimNotDurable when the replicas do not acknowledge in
   * time: the claims stay open and a later flush loads them.
   */
  async makeDurable(bucket: BucketRef, replicas: ClaimReplicas): Promise<number> {
    const keys = this.keys.bucket(bucket);
    // Commands without keys go with the pipeline's keyed command: to the bucket's master.
    const facts = await execPipeline(this.redis.pipeline().exists(keys.lock).info('replication', 'persistence', 'server').config('GET', 'appendfsync'));
    const [, [infoError, info], [, appendfsync]] = facts as [Reply, Reply, Reply];
    if (infoError) throw infoError;
    const durability = claimDurability(String(info), replicas, (appendfsync as string[] | undefined)?.[1]);
    if (durability.replicas === 0 && durability.aof !== 'waitaof') {
      return durability.aof === 'fsync-second' ? Date.now() + EVERYSEC_WAIT_MS : Date.now();
    }
    const pipeline = this.redis.pipeline().exists(keys.lock);
    if (durability.aof === 'waitaof') pipeline.call('WAITAOF', 1, durability.replicas, CLAIM_WAIT_MS);
    else pipeline.call('WAIT', durability.replicas, CLAIM_WAIT_MS);
    const [, [error, reply]] = (await execPipeline(pipeline)) as [Reply, Reply];
    if (error) throw error;
    const [local, acknowledged] = durability.aof === 'waitaof' ? (reply as [number, number]) : [1, reply as number];
    if (local < 1 || acknowledged < durability.replicas) {
      throw new ClaimNotDurable(
        `the claims of ${bucket.site} ${new Date(bucket.minute).toISOString()} reached ${acknowledged} of ${durability.replicas} replica(s)` +
          (local < 1 ? ' and not the AOF' : '') +
          ` within ${CLAIM_WAIT_MS} ms; they stay open for a later flush`,
      );
    }
    return Date.now();
  }

  /**
   * Reads a claimed generation with commands that each touch a bounded amount of data (HSCAN
   * pages, single HyperLogLogs), so a flush never blocks the tracker behind one big command.
   * The generation's hashes are scanned side by side (each a chain of HSCAN pages) and its
   * sketches fetched by MGETs of `scanCount` keys, a few in flight; `visitors` is computed
   * from each sketch here (estimateRedisHll gives PFCOUNT's integer) instead of asking Redis.
   */
  async readClaim(claim: Claim): Promise<ClaimedBatch> {
    const keys = this.keys.bucket(claim.bucket);
    const gen = claim.generation;
    const [hashes, engaged, events] = await Promise.all([
      Promise.all(DIMENSIONS.map((dimension) => this.scanHash(keys.counter(dimension, gen)))),
      this.scanHash(keys.engagedEarlier(gen)),
      this.redis.get(keys.eventCount(gen)),
    ]);
    const counters: ClaimedCounter[] = [];
    const pages = new Set<string>();
    const customEvents = new Set<string>();
    const combinations: string[] = [];
    const eventCombinations: string[] = [];
    DIMENSIONS.forEach((dimension, d) => {
      for (const [field, count] of hashes[d]!) {
        const cut = field.indexOf(FIELD_SEPARATOR);
        if (cut <= 0) continue; // the hash-table marker of track-site-n.lua, not a counter
        const event = field.slice(0, cut);
        const value = field.slice(cut + 1);
        counters.push({ event, dimension, value, count: BigInt(count) });
        if (dimension === 'page') pages.add(value);
        else if (dimension === 'total') customEvents.add(event);
        else if (dimension === 'combination' && value !== OTHER && event !== OTHER) {
          if (event === PAGEVIEW_EVENT) combinations.push(value);
          else eventCombinations.push(field);
        }
      }
    });
    const earlier = new Map<string, ClaimedCounter[]>();
    for (const [field, count] of engaged) {
      const cut = field.indexOf(FIELD_SEPARATOR);
      if (cut <= 0) continue;
      const start = field.slice(0, cut);
      let rows = earlier.get(start);
      if (!rows) earlier.set(start, (rows = []));
      const n = BigInt(count);
      const total = rows.find((r) => r.dimension === 'total');
      if (total) total.count += n;
      else rows.push({ event: ENGAGED_VISIT_EVENT, dimension: 'total', value: '', count: n });
      rows.push({ event: ENGAGED_VISIT_EVENT, dimension: 'entry_page', value: field.slice(cut + 1), count: n });
    }
    // Custom events have sketches; page views' are the site's, visits' are derived, and the
    // "(other)" event past the guard has none.
    for (const event of [PAGEVIEW_EVENT, VISIT_EVENT, ENGAGED_VISIT_EVENT, OTHER]) customEvents.delete(event);
    const sketched: Array<{ dimension: ClaimedBatch['visitors'][number]['dimension']; value: string; key: string }> = [
      { dimension: 'total', value: '', key: keys.siteHll(gen) },
      ...[...pages].map((page) => ({ dimension: 'page' as const, value: page, key: keys.pageHll(pageDigest(page), gen) })),
      ...[...customEvents].map((event) => ({ dimension: 'event' as const, value: event, key: keys.eventHll(pageDigest(event), gen) })),
      ...combinations.map((value) => ({ dimension: 'combination' as const, value, key: keys.combinationHll(pageDigest(value), gen) })),
      ...eventCombinations.map((value) => ({ dimension: 'event_combination' as const, value, key: keys.combinationHll(pageDigest(value), gen) })),
    ];
    const sketches = await this.getBuffers(sketched.map((s) => s.key));
    const visitors: ClaimedBatch['visitors'] = [];
    sketches.forEach((sketch, i) => {
      const { dimension, value } = sketched[i]!;
      // A custom event's combination sketch longer than a combination value is deleted unloaded.
      if (sketch && !(dimension === 'event_combination' && value.length > COMBINATION_MAX_LENGTH)) {
        visitors.push({ dimension, value, visitors: visitorsOf(sketch, claim.batchId), sketch });
      }
    });
    return {
      batchId: claim.batchId,
      site: claim.bucket.site,
      minute: new Date(claim.bucket.minute),
      events: Number(events ?? 0),
      counters,
      visitors,
      earlier: [...earlier].map(([start, rows]) => ({ batchId: `${claim.batchId}+${start}`, minute: new Date(parseMinuteId(start)), counters: rows })),
      sketchKeys: sketched.slice(1).map((s) => s.key),
    };
  }

  /** Deletes a claimed generation after the warehouse committed it. Safe to repeat. */
  async deleteClaim(claim: Claim, batch: Pick<ClaimedBatch, 'sketchKeys'>): Promise<void> {
    const keys = this.keys.bucket(claim.bucket);
    const gen = claim.generation;
    await this.inChunks(batch.sketchKeys, (chunk) => this.redis.unlink(...chunk));
    // The claim entry goes last and with the rest, so a crash before it repeats a harmless delete.
    await this.redis
      .multi()
      .unlink(...keys.dataKeys(gen), keys.pageHll(pageDigest(OTHER), gen))
      .hdel(keys.claims, String(gen))
      .exec();
  }

  /** Drops an empty bucket from its pending index; false when it still holds data. */
  async retireBucket(bucket: BucketRef): Promise<boolean> {
    const keys = this.keys.bucket(bucket);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { generation } = parseGeneration(await this.redis.get(keys.generation));
      const bucketKeys = [keys.generation, keys.claims, keys.eventCount(generation)];
      if (!bucket.legacyKeys) {
        const pending = this.keys.site(bucket.site).pending;
        const retired = (await callScript(this.redis, 'retireBucket', [...bucketKeys, pending], [generation, minuteId(bucket.minute)])) as number;
        if (retired === -1) continue;
        return retired === 1;
      }
      // The legacy index is in another slot. Its entry is removed first and put back if the
      // bucket still holds data, so a tracker of the old version still writing (which re-adds
      // the entry after its counters) never leaves an event unindexed.
      const member = this.keys.legacyMember(bucket);
      await this.redis.zrem(this.keys.legacyPending, member);
      if ((await callScript(this.redis, 'retireBucket', bucketKeys, [generation])) === 1) return true;
      await this.redis.zadd(this.keys.legacyPending, bucket.minute, member);
      return false;
    }
    return false;
  }

  /**
   * What waits in a bucket: the generations holding data not yet loaded (its current one if it
   * was written, and every open claim) and their events. A bucket with none is fully loaded
   * and only waits to leave the pending index.
   */
  async bucketBacklog(bucket: BucketRef): Promise<{ generations: number; events: number }> {
    const keys = this.keys.bucket(bucket);
    const { generation } = parseGeneration(await this.redis.get(keys.generation));
    const claims = await this.openClaims(bucket);
    const gens = [...new Set([generation, ...claims.map((c) => c.generation)])];
    // A generation holding only visit counts has an event count of 0: the key's existence is what says it holds data.
    const counts = await Promise.all(gens.map((g) => this.redis.get(keys.eventCount(g))));
    const written = counts.filter((c) => c !== null);
    return { generations: written.length, events: written.reduce((sum, c) => sum + Number(c), 0) };
  }

  /**
   * The buckets before `before` (ms) that hold data not yet loaded, with what waits in each,
   * oldest first: the pending buckets less those fully loaded that only wait to leave the index.
   */
  async backlog(before: number, options: { discover?: boolean } = {}): Promise<Array<BucketRef & { generations: number; events: number }>> {
    const buckets = await this.pendingBuckets(before, options);
    const backlogs = await Promise.all(buckets.map((bucket) => this.bucketBacklog(bucket)));
    return buckets.map((bucket, i) => ({ ...bucket, ...backlogs[i]! })).filter((b) => b.generations > 0);
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

  /** Memory used by Redis, summed over every master, bytes. */
  async usedMemory(): Promise<number> {
    const sizes = await Promise.all(masterNodes(this.redis).map(async (node) => Number(parseInfo(await node.info('memory')).get('used_memory') ?? 0)));
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** Whether Redis can serve these sites' writes now; a reason when not (see servingHealth). */
  health(sites: readonly string[]): Promise<string | undefined> {
    return servingHealth(this.redis, sites.map((site) => this.keys.site(site).tag));
  }

  /**
   * The values of `keys` (all in one slot, so one MGET may fetch many), by MGETs of `scanCount`
   * keys, a few in flight at once: one command and one reply per thousand sketches, not per
   * sketch (each is a few dozen bytes, or 12 KB when dense: an MGET stays a bounded command).
   */
  private async getBuffers(keys: readonly string[]): Promise<Array<Buffer | null>> {
    const out = new Array<Buffer | null>(keys.length);
    await this.inChunks(keys, async (chunk, offset) => {
      const values = await this.redis.mgetBuffer(...chunk);
      values.forEach((value, j) => (out[offset + j] = value));
    });
    return out;
  }

  /** Runs `work` on chunks of `scanCount` items, `CHUNKS_IN_FLIGHT` at a time. */
  private async inChunks<T>(items: readonly T[], work: (chunk: T[], offset: number) => Promise<unknown>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const offset = next;
        next += this.scanCount;
        await work(items.slice(offset, offset + this.scanCount), offset);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, Math.ceil(items.length / this.scanCount)) }, worker));
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
