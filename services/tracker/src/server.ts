import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AnalyticsStore, liveDefaults } from '@rta/redis-store';
import type { Warehouse } from '@rta/warehouse';
import { RedisUnavailable, type CountDeps } from './count-events.js';
import { createTrackerMetrics } from './metrics.js';
import { DailySalt } from './salt.js';
import { sendJson, sendPixel, sendPreflight, sendText } from './http.js';
import { handlePixel } from './routes/pixel.js';
import { handleBeacon } from './routes/beacon.js';
import { handleDashboardPage, handleHistory, handleLive, handleLogin, handleLogout, type DashboardDeps } from './routes/dashboard.js';
import { loadAssets, sendAsset } from './assets.js';
import { DashboardAuth } from './dashboard-auth.js';

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
  /** A visit ends after this many minutes without a hit. Default 30. */
  sessionIdleMinutes?: number;
  /** Token of the dashboard and its APIs; undefined locks them (503). Default undefined. */
  dashboardToken?: string;
  /** Where `/api/history` reads from (the tracker only queries it); absent = history answers 503. */
  warehouse?: Warehouse;
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

/** The HTTP service: pixel, beacon, browser script, health, metrics, and the dashboard with its APIs. */
export function createTracker(options: TrackerOptions): Tracker {
  const clock = options.clock ?? Date.now;
  const store = new AnalyticsStore(options.redis, {
    prefix: options.prefix,
    maxValuesPerDimension: options.maxValuesPerDimension,
    live: { sessionIdleMinutes: options.sessionIdleMinutes ?? liveDefaults.sessionIdleMinutes },
  });
  const assets = loadAssets();
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
  const dashboard: DashboardDeps = {
    auth: new DashboardAuth(options.dashboardToken),
    store,
    warehouse: options.warehouse,
    sites: options.sites,
    clock,
    trustProxy: options.trustProxy ?? false,
    logger: options.logger,
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (path === '/p.gif' || path === '/e') {
      if (method === 'OPTIONS') return sendPreflight(res);
      if (path === '/p.gif' && (method === 'GET' || method === 'HEAD')) return handlePixel(req, res, deps);
      if (path === '/e' && method === 'POST') return handleBeacon(req, res, deps);
      req.resume();
      return sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: path === '/e' ? 'POST, OPTIONS' : 'GET, OPTIONS' });
    }
    const asset = method === 'GET' || method === 'HEAD' ? assets.get(path) : undefined;
    if (asset) {
      req.resume();
      return sendAsset(req, res, asset);
    }
    if (path === '/dashboard' && method === 'GET') return handleDashboardPage(req, res, dashboard);
    if (path === '/dashboard/login' && method === 'POST') return handleLogin(req, res, dashboard);
    if (path === '/dashboard/logout' && method === 'POST') return handleLogout(req, res);
    if (path === '/api/live' && method === 'GET') return handleLive(req, res, dashboard);
    if (path === '/api/history' && method === 'GET') return handleHistory(req, res, dashboard);
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
