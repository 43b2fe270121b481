import { validateEvent, type RawEvent, type RejectionReason, type RequestContext } from '@rta/events';
import type { AnalyticsStore, EventWrite } from '@rta/redis-store';
import type { TrackerMetrics } from './metrics.js';
import type { DailySalt } from './salt.js';

export interface CountResult {
  accepted: number;
  bots: number;
  rejected: Array<{ index: number; reason: RejectionReason }>;
}

export class RedisUnavailable extends Error {
  override readonly name = 'RedisUnavailable';
  readonly code = 'REDIS_UNAVAILABLE';
}

export interface CountDeps {
  store: AnalyticsStore;
  salt: DailySalt;
  sites: ReadonlySet<string>;
  metrics: TrackerMetrics;
}

/**
 * Where a request's events become Redis writes: validate every event, drop bots, write the
 * rest in one round trip, and resolve only once Redis acknowledged them.
 */
export async function countEvents(raws: readonly RawEvent[], context: RequestContext, deps: CountDeps): Promise<CountResult> {
  let salt = deps.salt.cached();
  if (salt === undefined) {
    try {
      salt = await deps.salt.get();
    } catch (error) {
      throw new RedisUnavailable('cannot read the visitor salt from Redis', { cause: error });
    }
  }
  const writes: EventWrite[] = [];
  const result: CountResult = { accepted: 0, bots: 0, rejected: [] };
  raws.forEach((raw, index) => {
    const validation = validateEvent(raw, context, { sites: deps.sites, salt });
    if (!validation.ok) {
      result.rejected.push({ index, reason: validation.reason });
      deps.metrics.rejected.inc({ reason: validation.reason });
    } else if (validation.bot) {
      result.bots++;
      deps.metrics.bots.inc();
    } else {
      writes.push(validation.event);
    }
  });
  if (writes.length > 0) {
    const stop = deps.metrics.redisLatency.startTimer();
    try {
      await deps.store.track(writes);
    } catch (error) {
      deps.metrics.redisFailures.inc();
      throw new RedisUnavailable('Redis did not acknowledge the writes', { cause: error });
    }
    stop();
    result.accepted = writes.length;
    deps.metrics.accepted.inc(writes.length);
  }
  return result;
}
