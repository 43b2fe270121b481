import { validateEvent, type GeoDatabase, type RawEvent, type RejectionReason, type RequestContext } from '@rta/events';
import type { AnalyticsStore, BotCounts, EventWrite } from '@rta/redis-store';
import type { TrackerMetrics } from './metrics.js';
import type { DailySalt } from './salt.js';
import type { ProxyTrust } from './proxy-trust.js';

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
  bots: BotCounts;
  salt: DailySalt;
  sites: ReadonlySet<string>;
  metrics: TrackerMetrics;
  /** Countries (and regions and cities) of client addresses; absent: every country `(unknown)`. */
  geo?: GeoDatabase;
}

/** What the pixel and the beacon need besides CountDeps. */
export interface IngestDeps extends CountDeps {
  proxy: ProxyTrust;
  clock: () => number;
}

/**
 * Where a request's events become Redis writes: validate every event, set bots aside (counted
 * per site and minute for the live view, never as events), write the rest in one round trip,
 * and resolve only once Redis acknowledged everything. A request whose events were all
 * rejected never reaches Redis.
 */
export async function countEvents(raws: readonly RawEvent[], context: RequestContext, deps: CountDeps): Promise<CountResult> {
  const salt = deps.salt.today();
  const writes: EventWrite[] = [];
  const botsPerSite = new Map<string, number>();
  const result: CountResult = { accepted: 0, bots: 0, rejected: [] };
  raws.forEach((raw, index) => {
    // Without today's salt the visitor ids are wrong, but then nothing is written (below).
    const validation = validateEvent(raw, context, { sites: deps.sites, salt: salt ?? '', geo: deps.geo });
    if (!validation.ok) {
      result.rejected.push({ index, reason: validation.reason });
      deps.metrics.rejected.inc({ reason: validation.reason });
    } else if (validation.bot) {
      result.bots++;
      botsPerSite.set(validation.event.site, (botsPerSite.get(validation.event.site) ?? 0) + 1);
    } else {
      writes.push(validation.event);
    }
  });
  if (writes.length > 0 && salt === undefined) {
    deps.salt.fetchToday();
    throw new RedisUnavailable('the visitor salt of today is not in memory (Redis did not give it yet)');
  }
  if (writes.length + result.bots === 0) return result;
  const stop = deps.metrics.redisLatency.startTimer();
  try {
    if (botsPerSite.size === 0) await deps.store.track(writes);
    else await Promise.all([deps.store.track(writes), ...[...botsPerSite].map(([site, hits]) => deps.bots.add(site, context.receivedAt, hits))]);
  } catch (error) {
    deps.metrics.redisFailures.inc();
    throw new RedisUnavailable('Redis did not acknowledge the writes', { cause: error });
  }
  stop();
  result.accepted = writes.length;
  deps.metrics.accepted.inc(writes.length);
  deps.metrics.bots.inc(result.bots);
  return result;
}
