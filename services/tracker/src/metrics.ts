import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one tracker; each tracker owns its registry. */
export function createTrackerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rta_tracker_' });
  return {
    registry,
    requests: new Counter({
      name: 'rta_tracker_requests_total',
      help: 'HTTP requests served, by tracker process (worker 0 without TRACKER_WORKERS, else 1…n).',
      labelNames: ['worker'] as const,
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'rta_events_accepted_total',
      help: 'Events accepted and written to Redis.',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'rta_events_rejected_total',
      help: 'Events or requests rejected, by reason (the X-Analytics-Rejected value).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    bots: new Counter({
      name: 'rta_bot_hits_total',
      help: 'Hits from user agents recognised as bots; not counted as page views.',
      registers: [registry],
    }),
    redisFailures: new Counter({
      name: 'rta_redis_write_failures_total',
      help: 'Requests answered 503 because Redis did not acknowledge the writes.',
      registers: [registry],
    }),
    sessionsCapped: new Counter({
      name: 'rta_sessions_capped_total',
      help: 'New visitors who got no session because their site reached SESSION_CAP sessions in the session window; their visits are estimated.',
      labelNames: ['site'] as const,
      registers: [registry],
    }),
    redisLatency: new Histogram({
      name: 'rta_redis_write_seconds',
      help: 'Time from sending a request\'s Redis writes to their acknowledgement.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

export type TrackerMetrics = ReturnType<typeof createTrackerMetrics>;
