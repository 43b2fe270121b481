import { randomBytes } from 'node:crypto';
import { pageDigest, type AnalyticsKeys } from './keys.js';
import { siteCall, type SiteCallOptions } from './site-call.js';
import { callScript, scriptCommand } from './scripts.js';
import { memo } from './memo.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { execPipeline, isCluster, type RedisClient } from './redis-client.js';

/** One event as the tracker counts it. */
export interface EventWrite {
  site: string;
  event: string;
  path: string;
  referrer: string;
  device: string;
  /** Absent in writes of callers that do not know them (counted as nothing, not `(unknown)`). */
  country?: string | undefined;
  region?: string | undefined;
  city?: string | undefined;
  browser?: string | undefined;
  os?: string | undefined;
  utmSource?: string | undefined;
  utmMedium?: string | undefined;
  utmCampaign?: string | undefined;
  visitorId: string;
  /** Milliseconds since the epoch; decides the minute bucket. */
  receivedAt: number;
}

export interface WriteOptions extends SiteCallOptions {
  /**
   * Replicas that must have a write before it counts as done (`WAIT` after the script call, on
   * its connection). Default 0: done once the master has it.
   */
  waitReplicas?: number;
  /** How long `WAIT` may take, milliseconds. Default 1,000. */
  waitTimeoutMs?: number;
  /** Told how many new visitors of a call got no session because of the session cap. */
  onSessionsCapped?: (site: string, count: number) => void;
}

/** Events per script call; bounds how long one call holds Redis (a few commands per event). */
const MAX_EVENTS_PER_CALL = 256;
const CACHE_LIMIT = 20_000;
/** Calls again after a claim moved a generation on; more in a row means something is wrong. */
const MAX_ATTEMPTS = 5;
/** Errors a cluster answers before a script runs (it wrote nothing): the slot is elsewhere, moving, or has no master yet. */
const REDIRECTED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;
/** Calls of one batch after such errors with WAIT, about 2 s of slot moves in all. */
const MAX_REDIRECTED_ATTEMPTS = 16;
/** Minutes of generations remembered per site (older minutes are rarely written). */
const GENERATION_MINUTES = 120;
/** A site this process writes is put into the index of sites again after this long (ms). */
const REGISTER_EVERY_MS = 30_000;

export class ReplicationTimeout extends Error {
  override readonly name = 'ReplicationTimeout';
  readonly code = 'REDIS_REPLICATION_TIMEOUT';
}

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
 * A site's writes: the batch gathering events, the full ones waiting, and whether a write is
 * in flight. Each site has its own round trip: on a cluster a slow or failing shard holds up
 * only its own sites.
 */
interface SiteQueue {
  open: SiteBatch | undefined;
  sealed: SiteBatch[];
  inFlight: boolean;
  scheduled: boolean;
}

/**
 * Gathers the events of the `track` calls made while the site's previous write is in flight and
 * writes them with one track-site call (all of a site's keys share one hash slot): counters,
 * HyperLogLogs, sessions, the visit counts they decide, the live view and the bucket's
 * pending-index entry, atomically (group commit: under load calls grow and Redis sees fewer,
 * larger ones; when idle a request still waits for exactly one round trip). Each caller's
 * promise settles when Redis has acknowledged every call holding its events (and
 * `waitReplicas` replicas have them), so "answered" means "in Redis". A call touches only its
 * site's slot.
 */
export class WriteBatcher {
  private readonly queues = new Map<string, SiteQueue>();
  private readonly pageDigests = new Map<string, string>();
  /** Per site, minute → the generation this process last saw current (absent: 0). */
  private readonly generations = new Map<string, Map<number, number>>();
  /** When this process last put each site into the index of sites (ms). */
  private readonly registered = new Map<string, number>();
  /**
   * Call ids and generation tokens: unique per process (a random start) and call (a counter).
   * Random bytes per call cost a getrandom system call each (about 9 µs on a VM).
   */
  private readonly idPrefix = randomBytes(9).toString('base64url');
  private calls = 0;
  private nextToken = randomBytes(6).readUIntBE(0, 6);
  /** Sites whose sessions the earlier version's keys may still hold (see "Upgrade" in the script): unknown until a call says. */
  private readonly noEarlierSessions = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: AnalyticsKeys,
    private readonly options: WriteOptions,
  ) {}

  add(events: readonly EventWrite[]): Promise<void> {
    const waits = new Set<Promise<void>>();
    const touched = new Set<SiteQueue>();
    for (const event of events) {
      let queue = this.queues.get(event.site);
      if (!queue) this.queues.set(event.site, (queue = { open: undefined, sealed: [], inFlight: false, scheduled: false }));
      const batch = (queue.open ??= { site: event.site, events: [], done: deferred() });
      batch.events.push(event);
      waits.add(batch.done.promise);
      if (batch.events.length >= MAX_EVENTS_PER_CALL) {
        queue.sealed.push(batch);
        queue.open = undefined;
      }
      touched.add(queue);
    }
    for (const queue of touched) this.schedule(queue);
    return waits.size === 1 ? [...waits][0]! : Promise.all(waits).then(() => undefined);
  }

  private schedule(queue: SiteQueue): void {
    if (queue.scheduled || queue.inFlight || (queue.sealed.length === 0 && !queue.open)) return;
    queue.scheduled = true;
    setImmediate(() => this.flush(queue));
  }

  private flush(queue: SiteQueue): void {
    queue.scheduled = false;
    const batches = queue.open ? [...queue.sealed, queue.open] : queue.sealed;
    queue.sealed = [];
    queue.open = undefined;
    queue.inFlight = true;
    void Promise.all(batches.map((batch) => this.send(batch).then(() => batch.done.resolve(), batch.done.reject))).then(() => {
      queue.inFlight = false;
      this.schedule(queue);
    });
  }

  /**
   * One call, repeated with the current generations' keys when a claim moved one on (the
   * script then wrote nothing). The call id stays the same across attempts, so a repeat of a
   * call whose reply was lost (a retry after a failover) writes nothing twice.
   */
  private async send(batch: SiteBatch): Promise<void> {
    this.register(batch.site);
    const generations = this.siteGenerations(batch.site);
    const callId = `${this.idPrefix}.${(this.calls++).toString(36)}`;
    for (let attempt = 1; ; attempt++) {
      const call = siteCall(batch.site, batch.events, this.options, {
        keys: this.keys,
        generation: (minute) => generations.get(minute) ?? 0,
        digest: (page) => memo(this.pageDigests, page, CACHE_LIMIT, pageDigest),
        // Not memoised: combinations rarely repeat across calls (a call has each once), and a
        // cache of them cost more than the hash (crypto.hash, under a microsecond).
        combinationDigest: pageDigest,
        callId,
        token: (this.nextToken++ % 2 ** 48).toString(16).padStart(12, '0'),
        earlierSessions: !this.noEarlierSessions.has(batch.site),
      });
      const reply = (await this.call(call.keys, call.args)) as number[];
      if (reply[0] === 1) {
        if (reply[1]! > 0) this.options.onSessionsCapped?.(batch.site, reply[1]!);
        if (reply[2] === 0 && this.options.live) this.noEarlierSessions.add(batch.site);
        return;
      }
      if (reply[0] === 2) return;
      call.minutes.forEach((minute, i) => generations.set(minute, reply[i + 1]!));
      if (attempt >= MAX_ATTEMPTS) throw new Error(`the generations of ${batch.site} kept moving over ${MAX_ATTEMPTS} calls`);
    }
  }

  private async call(keys: string[], args: Array<string | number>): Promise<unknown> {
    const replicas = this.options.waitReplicas ?? 0;
    if (replicas === 0) return callScript(this.redis, 'trackSite', keys, args);
    const timeoutMs = this.options.waitTimeoutMs ?? 1_000;
    for (let attempt = 1; ; attempt++) {
      // WAIT covers the writes of its own connection: it goes in one pipeline with the call.
      const pipeline = this.redis.pipeline();
      scriptCommand(pipeline, 'trackSite', keys, args);
      pipeline.call('WAIT', replicas, timeoutMs);
      const [[scriptError, reply], [waitError, acknowledged]] = (await execPipeline(pipeline)) as Array<[Error | null, unknown]> as [
        [Error | null, unknown],
        [Error | null, unknown],
      ];
      // On a cluster, a redirection of the script with another error for WAIT (a promoted
      // replica's old master answers "MOVED" to the script and refuses WAIT as a replica) is not
      // one ioredis follows for a pipeline, nor learns the new slot owner from: the script ran
      // nowhere, so refresh the slot map and call again, for as long as a slot move may take.
      if (scriptError && isCluster(this.redis) && REDIRECTED.test(scriptError.message) && attempt < MAX_REDIRECTED_ATTEMPTS) {
        await refreshSlots(this.redis);
        await sleep(Math.min(25 * attempt, 200));
        continue;
      }
      if (scriptError) throw scriptError;
      if (waitError) throw waitError;
      if (Number(acknowledged) < replicas) {
        throw new ReplicationTimeout(`only ${acknowledged} of ${replicas} replicas acknowledged the write within ${timeoutMs} ms`);
      }
      return reply;
    }
  }

  /**
   * Puts the site into the index of sites, where the flusher starts, off the request path: sent
   * before the call and not awaited (on one connection Redis runs it first; on a cluster the
   * index may be on another node, which a request must not depend on). Repeated every
   * REGISTER_EVERY_MS, so the index heals after Redis lost it; a failure is retried next call.
   */
  private register(site: string): void {
    const now = Date.now();
    if (now - (this.registered.get(site) ?? -Infinity) < REGISTER_EVERY_MS) return;
    this.registered.set(site, now);
    this.redis.sadd(this.keys.sites, site).catch(() => this.registered.delete(site));
  }

  private siteGenerations(site: string): Map<number, number> {
    let generations = this.generations.get(site);
    if (!generations) this.generations.set(site, (generations = new Map()));
    if (generations.size > GENERATION_MINUTES) {
      const newest = Math.max(...generations.keys());
      for (const minute of generations.keys()) if (minute < newest - GENERATION_MINUTES * 60_000) generations.delete(minute);
    }
    return generations;
  }
}

function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
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
