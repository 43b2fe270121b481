import type { Logger } from 'pino';
import { minuteOf, type AnalyticsStore, type Claim } from '@rta/redis-store';
import type { Warehouse } from '@rta/warehouse';

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
   * An empty bucket leaves the pending index this long after its minute closed. Until then a
   * flush re-checks it, which catches events whose Redis write was delayed past the claim.
   * Default 300,000 ms.
   */
  retireAfterMs?: number;
}

export const flushDefaults = { graceSeconds: 5, lockTtlMs: 60_000, retireAfterMs: 300_000 } as const;

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
  startedAt: string;
  durationMs: number;
}

export interface FlushDeps {
  store: AnalyticsStore;
  warehouse: Warehouse;
  logger: Logger;
}

/**
 * Where a minute becomes warehouse rows. Every closed (site, minute) bucket, oldest first:
 * take its lock, finish claims a dead flush left behind, claim what arrived since, and per claim
 * read → load (idempotent by batch id, one transaction with its ledger row) → delete from Redis.
 * Deleting only after the commit, and loading by batch id, is what makes a SIGKILL at any point
 * neither lose nor double count: a rerun either finds the batch in the ledger or loads it.
 * A failing load stops the flush (later minutes wait, so minutes load in order) and rethrows.
 */
export async function flushClosedMinutes(deps: FlushDeps, options: FlushOptions = {}): Promise<FlushSummary> {
  const started = Date.now();
  const now = options.now ?? started;
  const grace = (options.graceSeconds ?? flushDefaults.graceSeconds) * 1_000;
  const lockTtlMs = options.lockTtlMs ?? flushDefaults.lockTtlMs;
  const retireAfterMs = options.retireAfterMs ?? flushDefaults.retireAfterMs;
  const before = options.includeCurrentMinute ? minuteOf(now) + 60_000 : minuteOf(now - grace);
  const summary: FlushSummary = {
    minutes: 0,
    batches: 0,
    alreadyLoaded: 0,
    counterRows: 0,
    visitorRows: 0,
    events: 0,
    skippedLocked: 0,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
  };

  for (const bucket of await deps.store.pendingBuckets(before)) {
    const token = await deps.store.lock(bucket, lockTtlMs);
    if (!token) {
      summary.skippedLocked++;
      continue;
    }
    try {
      const claims = await deps.store.openClaims(bucket);
      const fresh = await deps.store.claim(bucket);
      if (fresh) claims.push(fresh);
      if (claims.length > 0) summary.minutes++;
      for (const claim of claims) {
        await flushClaim(deps, claim, summary);
        await deps.store.extendLock(bucket, token, lockTtlMs);
      }
      if (bucket.minute + 60_000 + grace + retireAfterMs <= now) await deps.store.retireBucket(bucket);
    } finally {
      await deps.store.unlock(bucket, token).catch(() => undefined);
    }
  }
  summary.durationMs = Date.now() - started;
  if (summary.batches > 0) await deps.store.recordFlush(summary);
  return summary;
}

async function flushClaim(deps: FlushDeps, claim: Claim, summary: FlushSummary): Promise<void> {
  const batch = await deps.store.readClaim(claim);
  const result = await deps.warehouse.load(batch);
  await deps.store.deleteClaim(claim, batch);
  summary.batches++;
  if (result.status === 'already-loaded') summary.alreadyLoaded++;
  else summary.events += batch.events;
  summary.counterRows += result.counterRows;
  summary.visitorRows += result.visitorRows;
  deps.logger.debug(
    { batchId: claim.batchId, status: result.status, counterRows: result.counterRows, events: batch.events },
    'batch flushed',
  );
}
