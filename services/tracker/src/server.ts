import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AnalyticsStore } from '@rta/redis-store';
import { RedisUnavailable, type CountDeps } from './count-events.js';
import { createTrackerMetrics } from './metrics.js';
import { DailySalt } from './salt.js';
import { sendJson, sendPixel, sendPreflight, sendText } from './http.js';
import { handlePixel } from './routes/pixel.js';
import { handleBeacon } from './routes/beacon.js';

export interface TrackerOptions {
  /** A client with `enableAutoPipelining` so concurrent requests share round trips. */
  redis: Redis;
  /** Accepted sites, lower case. */
  sites: readonly string[];
  /** Redis key prefix. Default `rta`. */
  prefix?: string;
  /** Cardinality guard per site, dimension and minute. Default 10,000. */
  maxValuesPerDimension?: number;
  /** Read the client address from `X-Forwarded-For`. Default false. */
  trustProxy?: boolean;
  /** Server clock in milliseconds; injectable for tests. Default `Date.now`. */
  clock?: () => number;
  logger: Logger;
}

export interface Tracker {
  server: Server;
  store: AnalyticsStore;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** The HTTP ingestion service: pixel, beacon, health and metrics. */
export function createTracker(options: TrackerOptions): Tracker {
  const clock = options.clock ?? Date.now;
  const store = new AnalyticsStore(options.redis, {
    prefix: options.prefix,
    maxValuesPerDimension: options.maxValuesPerDimension,
  });
  const metrics = createTrackerMetrics();
  const salt = new DailySalt(store, clock);
  const deps: CountDeps & { trustProxy: boolean; clock: () => number } = {
    store,
    salt,
    sites: new Set(options.sites),
    metrics,
    trustProxy: options.trustProxy ?? false,
    clock,
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (path === '/p.gif' || path === '/e') {
      if (method === 'OPTIONS') return sendPreflight(res);
      if (path === '/p.gif' && (method === 'GET' || method === 'HEAD')) return handlePixel(req, res, deps);
      if (path === '/e' && method === 'POST') return handleBeacon(req, res, deps);
      req.resume();
      return sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: path === '/e' ? 'POST, OPTIONS' : 'GET, OPTIONS' });
    }
    if (path === '/healthz' && method === 'GET') {
      try {
        await options.redis.ping();
        return sendJson(res, 200, { status: 'ok' });
      } catch {
        return sendJson(res, 503, { status: 'redis_unreachable' });
      }
    }
    if (path === '/metrics' && method === 'GET') {
      return sendText(res, 200, await metrics.registry.metrics(), metrics.registry.contentType);
    }
    req.resume();
    sendJson(res, 404, { error: 'not_found' });
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    route(req, res).catch((error: unknown) => {
      const unavailable = error instanceof RedisUnavailable;
      if (unavailable) options.logger.warn({ err: error.cause }, error.message);
      else options.logger.error({ err: error }, 'request failed');
      if (res.headersSent) return void res.destroy();
      const status = unavailable ? 503 : 500;
      const headers: Record<string, string> = unavailable ? { 'Retry-After': '1' } : {};
      if ((req.url ?? '').startsWith('/p.gif')) sendPixel(res, status, headers);
      else sendJson(res, status, { error: unavailable ? 'storage_unavailable' : 'internal_error' }, headers);
    });
  });

  return {
    server,
    store,
    async listen(port, host) {
      salt.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return (server.address() as AddressInfo).port;
    },
    async close() {
      salt.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
