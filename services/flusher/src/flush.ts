import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ClaimNotDurable, minuteOf, type AnalyticsStore, type BucketRef, type Claim, type ClaimedBatch, type ClaimReplicas } from '@rta/redis-store';
import type { MinuteBatch, Warehouse } from '@rta/warehouse';

export interface FlushOptions {
  /** Clock, milliseconds since the epoch. Default `Date.now()`. */
  now?: number;
  /** A minute is closed once it ended this many seconds ago. Default 5. */
  graceSeconds?: number;
  /** Also close the current minute (`cli flush --now`). Default false. */
  includeCurrentMinute?: boolean;
  /** Lifetime of a bucket's flush lock; a flusher that died releases it by expiry. Default 60,000 ms. */
  lockTtlMs?: number;
  /**
   * Wait for buckets another flush holds (up to the lock's lifetime) instead of skipping them:
   * a manual flush means "everything now"; the scheduled job leaves them to their holder.
   * Default false.
   */
  waitForLocks?: boolean;
  /**
   * An empty bucket leaves the pending index this long after its minute closed. Until then a
   * flush re-checks it, which catches events whose Redis write was delayed past the claim.
   * Default 300,000 ms.
   */
  retireAfterMs?: number;
  /** Replicas that must have a claim before its batch loads (see ClaimReplicas). Default `auto`. */
  claimReplicas?: ClaimReplicas;
  /**
   * Rows (counters and sketches) gathered from consecutive buckets into one warehouse call
   * (`loadBatches`: one transaction on DuckDB and PostgreSQL). A bucket is never split, so a
   * load holds at most this plus one bucket; the next load's buckets are read while one loads, so about
   * twice this is in memory. Default 100,000.
   */
  loadRows?: number;
}

export const flushDefaults = { graceSeconds: 5, lockTtlMs: 60_000, retireAfterMs: 300_000, claimReplicas: 'auto', loadRows: 100_000 } as const;

export interface FlushSummary {
  /** Minute buckets that had something to load. */
  minutes: number;
  batches: number;
  /** Batches the warehouse already had (a flush that died after its commit). */
  alreadyLoaded: number;
  counterRows: number;
  visitorRows: number;
  events: number;
  /** Buckets another flush was working on. */
  skippedLocked: number;
  /** Buckets whose claim could not be made durable yet (replicas behind); a later flush loads them. */
  notDurable: number;
  startedAt: string;
  durationMs: number;
}

export interface FlushDeps {
  store: AnalyticsStore;
  warehouse: Warehouse;
  logger: Logger;
}

/** This flush's lock on a bucket expired and another flush may hold it now: it stops at once. */
export class LockLost extends Error {
  override readonly name = 'LockLost';
  readonly code = 'FLUSH_LOCK_LOST';
}

/**
 * Buckets claimed ahead while the last claim waits to become durable (AOF everysec without
 * WAITAOF, see AnalyticsStore.makeDurable): one wait then covers the fsync of all their claims.
 */
const CLAIM_AHEAD = 16;
/**
 * Buckets read ahead of the load: their reads run while earlier buckets load, which keeps Redis
 * and the warehouse busy at once. With the load's rows (`loadRows`) this bounds the memory. More
 * in flight made the flush no faster and the tracker's p99 during it worse: Redis runs a
 * client's pipelined commands in one go, so the tracker waits behind all of them (4 gave 2.0–2.4×
 * the p99 without a flush, 2 gives 1.6–1.7×).
 */
const READ_AHEAD = 2;

interface HeldBucket {
  bucket: BucketRef;
  token: string;
  claims: Claim[];
  /** When its claims are durable and may load (ms since the epoch). */
  loadFrom: number;
  /** Its claims read from Redis, once its read has started (after `loadFrom`). */
  read?: Promise<ClaimedBatch[]>;
}

/**
 * Where a minute becomes warehouse rows. Every closed (site, minute) bucket, oldest first:
 * take its lock, finish claims a dead flush left behind, claim what arrived since (durable
 * before it loads), and per claim read → load (idempotent by batch id, one transaction with its
 * ledger row) → delete from Redis. Deleting only after the commit, and loading by batch id, is
 * what makes a SIGKILL at any point neither lose nor double count: a rerun either finds the
 * batch in the ledger or loads it. Consecutive buckets load together (up to `loadRows` rows, in
 * one `loadBatches` call) while the next ones are read; loads go one at a time, in order. A
 * failing load stops the flush (later minutes wait, so minutes load in order) and rethrows; so
 * does a lock that expired under a slow load.
 */
export async function flushClosedMinutes(deps: FlushDeps, options: FlushOptions = {}): Promise<FlushSummary> {
  const started = Date.now();
  const now = options.now ?? started;
  const grace = (options.graceSeconds ?? flushDefaults.graceSeconds) * 1_000;
  const lockTtlMs = options.lockTtlMs ?? flushDefaults.lockTtlMs;
  const retireAfterMs = options.retireAfterMs ?? flushDefaults.retireAfterMs;
  const replicas = options.claimReplicas ?? flushDefaults.claimReplicas;
  const loadRows = options.loadRows ?? flushDefaults.loadRows;
  const before = options.includeCurrentMinute ? minuteOf(now) + 60_000 : minuteOf(now - grace);
  const summary: FlushSummary = {
    minutes: 0,
    batches: 0,
    alreadyLoaded: 0,
    counterRows: 0,
    visitorRows: 0,
    events: 0,
    skippedLocked: 0,
    notDurable: 0,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
  };

  const buckets = await deps.store.pendingBuckets(before, {
    onUnreachable: (site, error) => deps.logger.warn({ site, err: error }, 'the Redis node of this site does not answer; its minutes wait for a later flush'),
  });
  // Buckets are claimed and read ahead of the load (READ_AHEAD, once durable) and loaded in
  // order, several per warehouse call.
  const held: HeldBucket[] = [];
  let next = 0;
  const claimNext = async (): Promise<void> => {
    const bucket = buckets[next++]!;
    const token = await lockBucket(deps, bucket, lockTtlMs, options.waitForLocks ?? false);
    if (!token) {
      summary.skippedLocked++;
      return;
    }
    const entry: HeldBucket = { bucket, token, claims: await deps.store.openClaims(bucket), loadFrom: 0 };
    held.push(entry);
    const fresh = await deps.store.claim(bucket);
    if (fresh) entry.claims.push(fresh);
    if (entry.claims.length === 0) return;
    try {
      entry.loadFrom = await deps.store.makeDurable(bucket, replicas);
    } catch (error) {
      if (!(error instanceof ClaimNotDurable)) throw error;
      // The claims stay open; a later flush loads them once they are durable.
      summary.notDurable++;
      deps.logger.warn({ site: bucket.site, minute: new Date(bucket.minute).toISOString() }, error.message);
      entry.claims = [];
    }
  };
  const readBucket = async (entry: HeldBucket): Promise<ClaimedBatch[]> => {
    if (entry.loadFrom > Date.now()) await sleep(entry.loadFrom - Date.now());
    const claimed: ClaimedBatch[] = [];
    for (const claim of entry.claims) claimed.push(await deps.store.readClaim(claim));
    return claimed;
  };
  /**
   * Claims the buckets the next reads need, held[from …] up to READ_AHEAD, and starts their
   * reads. While the last claim waits to become durable, claims further ahead (up to
   * CLAIM_AHEAD) cost no extra wait.
   */
  const fill = async (from: number): Promise<void> => {
    const ahead = () => held.length < from + READ_AHEAD || (held.length < CLAIM_AHEAD && (held.at(-1)?.loadFrom ?? 0) > Date.now());
    while (next < buckets.length && ahead()) await claimNext();
    for (let i = from; i < Math.min(held.length, from + READ_AHEAD); i++) {
      const entry = held[i]!;
      if (entry.read) continue;
      entry.read = readBucket(entry);
      entry.read.catch(() => undefined); // awaited in order below; a failure ends the flush there
    }
  };
  const retireBefore = now - grace - retireAfterMs - 60_000;
  /** The group whose load runs (held[0 … size)) while the next one is read. */
  let loading: { size: number; done: Promise<void> } | undefined;
  const finishLoading = async (): Promise<void> => {
    if (!loading) return;
    const { size, done } = loading;
    await done;
    const finished = held.splice(0, size);
    loading = undefined;
    await Promise.all(finished.map((entry) => deps.store.unlock(entry.bucket, entry.token).catch(() => undefined)));
  };
  try {
    for (;;) {
      const base = loading?.size ?? 0;
      await fill(base);
      if (held.length === base) break;
      // The next load: buckets from the front, whole, until they hold `loadRows` rows; read
      // while the previous load runs.
      const group: Array<{ entry: HeldBucket; claimed: ClaimedBatch[] }> = [];
      let rows = 0;
      while (base + group.length < held.length && (group.length === 0 || rows < loadRows)) {
        const entry = held[base + group.length]!;
        const claimed = await entry.read!;
        group.push({ entry, claimed });
        for (const c of claimed) rows += c.counters.length + c.visitors.length;
        await fill(base + group.length);
      }
      // Loads go one at a time, in bucket order.
      await finishLoading();
      const done = (async () => {
        await loadGroup(deps, held, group, summary, lockTtlMs);
        await Promise.all(group.map(({ entry }) => (entry.bucket.minute <= retireBefore ? deps.store.retireBucket(entry.bucket) : undefined)));
      })();
      done.catch(() => undefined); // awaited by finishLoading
      loading = { size: group.length, done };
    }
    await finishLoading();
  } finally {
    await loading?.done.catch(() => undefined);
    await Promise.all(held.map((entry) => deps.store.unlock(entry.bucket, entry.token).catch(() => undefined)));
  }
  summary.durationMs = Date.now() - started;
  if (summary.batches > 0) await deps.store.recordFlush(summary);
  return summary;
}

/**
 * Loads the claims of consecutive buckets in one warehouse call, then deletes them from Redis:
 * only after the warehouse reported every batch of the call.
 */
async function loadGroup(
  deps: FlushDeps,
  held: HeldBucket[],
  group: Array<{ entry: HeldBucket; claimed: ClaimedBatch[] }>,
  summary: FlushSummary,
  lockTtlMs: number,
): Promise<void> {
  const claims = group.flatMap(({ entry, claimed }) => claimed.map((batch, i) => ({ claim: entry.claims[i]!, batch })));
  if (claims.length === 0) return;
  await keepLocks(deps, held, group.length, claims[0]!.claim, lockTtlMs);
  for (const { entry } of group) if (entry.claims.length > 0) summary.minutes++;
  const perClaim = claims.map(({ batch }) => minuteBatches(batch));
  const results = await deps.warehouse.loadBatches(perClaim.flat());
  let at = 0;
  for (const [i, { claim, batch }] of claims.entries()) {
    let loaded = false;
    for (const minuteBatch of perClaim[i]!) {
      const result = results[at++]!;
      summary.counterRows += result.counterRows;
      summary.visitorRows += result.visitorRows;
      if (minuteBatch.batchId === claim.batchId) loaded = result.status === 'loaded';
    }
    summary.batches++;
    if (loaded) summary.events += batch.events;
    else summary.alreadyLoaded++;
    deps.logger.debug({ batchId: claim.batchId, loaded, counterRows: batch.counters.length, events: batch.events }, 'batch flushed');
  }
  // A bucket's claims go in order; buckets side by side.
  await Promise.all(
    group.map(async ({ entry, claimed }) => {
      for (const [i, batch] of claimed.entries()) await deps.store.deleteClaim(entry.claims[i]!, batch);
    }),
  );
}

/** The bucket's lock, or null when another flush holds it (after waiting for it, if asked). */
async function lockBucket(deps: FlushDeps, bucket: BucketRef, lockTtlMs: number, wait: boolean): Promise<string | null> {
  const deadline = Date.now() + lockTtlMs + 5_000;
  let told = false;
  for (;;) {
    const token = await deps.store.lock(bucket, lockTtlMs);
    if (token || !wait || Date.now() > deadline) return token;
    if (!told) {
      told = true;
      deps.logger.info({ site: bucket.site, minute: new Date(bucket.minute).toISOString() }, 'waiting for another flush to release this minute (or for its lock to expire)');
    }
    await sleep(250);
  }
}

/**
 * Extends the locks this flush holds before a load; those of the `loading` buckets about to load
 * (held[0 …]) must still be this flush's, else it stops (another flush may be loading them now).
 */
async function keepLocks(deps: FlushDeps, held: HeldBucket[], loading: number, claim: Claim, lockTtlMs: number): Promise<void> {
  const extended = await Promise.all(held.map((entry) => deps.store.extendLock(entry.bucket, entry.token, lockTtlMs)));
  if (extended.slice(0, loading).some((ok) => !ok)) {
    throw new LockLost(`the flush lock of batch ${claim.batchId} expired before its load (FLUSH_LOCK_SECONDS is ${lockTtlMs / 1_000}); stopping this flush`);
  }
}

/** The warehouse batches of a claim: its minute, then the engaged visits of earlier minutes. */
export function minuteBatches(claimed: ClaimedBatch): MinuteBatch[] {
  return [
    { batchId: claimed.batchId, site: claimed.site, minute: claimed.minute, counters: claimed.counters, visitors: claimed.visitors },
    ...claimed.earlier.map((e) => ({ batchId: e.batchId, site: claimed.site, minute: e.minute, counters: e.counters, visitors: [] })),
  ];
}
