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
}

export const flushDefaults = { graceSeconds: 5, lockTtlMs: 60_000, retireAfterMs: 300_000, claimReplicas: 'auto' } as const;

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
 * Buckets claimed ahead while the oldest claim waits to become durable (AOF everysec without
 * WAITAOF, see AnalyticsStore.makeDurable): one wait then covers the fsync of all their claims.
 */
const CLAIM_AHEAD = 16;

interface HeldBucket {
  bucket: BucketRef;
  token: string;
  claims: Claim[];
  /** When its claims are durable and may load (ms since the epoch). */
  loadFrom: number;
}

/**
 * Where a minute becomes warehouse rows. Every closed (site, minute) bucket, oldest first:
 * take its lock, finish claims a dead flush left behind, claim what arrived since (durable
 * before it loads), and per claim read → load (idempotent by batch id, one transaction with its
 * ledger row) → delete from Redis. Deleting only after the commit, and loading by batch id, is
 * what makes a SIGKILL at any point neither lose nor double count: a rerun either finds the
 * batch in the ledger or loads it. A failing load stops the flush (later minutes wait, so
 * minutes load in order) and rethrows; so does a lock that expired under a slow load.
 */
export async function flushClosedMinutes(deps: FlushDeps, options: FlushOptions = {}): Promise<FlushSummary> {
  const started = Date.now();
  const now = options.now ?? started;
  const grace = (options.graceSeconds ?? flushDefaults.graceSeconds) * 1_000;
  const lockTtlMs = options.lockTtlMs ?? flushDefaults.lockTtlMs;
  const retireAfterMs = options.retireAfterMs ?? flushDefaults.retireAfterMs;
  const replicas = options.claimReplicas ?? flushDefaults.claimReplicas;
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
  // Buckets are loaded in order, each right after its claims are durable. Where durability
  // takes a moment (AOF everysec without WAITAOF), the next buckets are claimed meanwhile.
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
  try {
    while (next < buckets.length || held.length > 0) {
      const head = held[0];
      if (!head || (head.loadFrom > Date.now() && next < buckets.length && held.length < CLAIM_AHEAD)) {
        await claimNext();
        continue;
      }
      if (head.claims.length > 0) summary.minutes++;
      if (head.loadFrom > Date.now()) await sleep(head.loadFrom - Date.now());
      for (const claim of head.claims) {
        await keepLocks(deps, held, claim, lockTtlMs);
        await flushClaim(deps, claim, summary);
      }
      if (head.bucket.minute + 60_000 + grace + retireAfterMs <= now) await deps.store.retireBucket(head.bucket);
      held.shift();
      await deps.store.unlock(head.bucket, head.token).catch(() => undefined);
    }
  } finally {
    await Promise.all(held.map((entry) => deps.store.unlock(entry.bucket, entry.token).catch(() => undefined)));
  }
  summary.durationMs = Date.now() - started;
  if (summary.batches > 0) await deps.store.recordFlush(summary);
  return summary;
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
 * Extends the locks this flush holds before a load; the one of the bucket about to load must
 * still be this flush's, else it stops (another flush may be loading that bucket now).
 */
async function keepLocks(deps: FlushDeps, held: HeldBucket[], claim: Claim, lockTtlMs: number): Promise<void> {
  // held[0] is the bucket about to load.
  const extended = await Promise.all(held.map((entry) => deps.store.extendLock(entry.bucket, entry.token, lockTtlMs)));
  if (!extended[0]) {
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

async function flushClaim(deps: FlushDeps, claim: Claim, summary: FlushSummary): Promise<void> {
  const claimed = await deps.store.readClaim(claim);
  let loaded = false;
  for (const batch of minuteBatches(claimed)) {
    const result = await deps.warehouse.load(batch);
    summary.counterRows += result.counterRows;
    summary.visitorRows += result.visitorRows;
    if (batch.batchId === claim.batchId) loaded = result.status === 'loaded';
  }
  await deps.store.deleteClaim(claim, claimed);
  summary.batches++;
  if (loaded) summary.events += claimed.events;
  else summary.alreadyLoaded++;
  deps.logger.debug({ batchId: claim.batchId, loaded, counterRows: claimed.counters.length, events: claimed.events }, 'batch flushed');
}
