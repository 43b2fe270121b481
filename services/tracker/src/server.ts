import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { LogLimiter } from '@rta/config';
import { GeoDatabase, bundledGeoDatabasePath } from '@rta/events';
import { AnalyticsStore, BotCounts, TokenAttempts, liveDefaults, type RedisClient } from '@rta/redis-store';
import type { Warehouse } from '@rta/warehouse';
import { RedisUnavailable, type IngestDeps } from './count-events.js';
import { createTrackerMetrics } from './metrics.js';
import { workerMetricsText } from './worker-metrics.js';
import { DailySalt } from './salt.js';
import { CORS, clientWentAway, sendJson, sendPixel, sendPreflight } from './http.js';
import { handlePixel } from './routes/pixel.js';
import { handleBeacon } from './routes/beacon.js';
import { PRIVATE, handleDashboardPage, handleExport, handleGoals, handleHistory, handleLive, handleLogin, handleLogout, sendDashboardFailure, type DashboardDeps } from './routes/dashboard.js';
import { handleMetrics, type MetricsDeps } from './routes/metrics.js';
import { loadAssets, sendAsset } from './assets.js';
import { DashboardAuth, SecretToken } from './dashboard-auth.js';
import { ProxyTrust, type ProxyTrustSetting } from './proxy-trust.js';
import { TokenGate } from './token-gate.js';

export interface TrackerOptions {
  /** A client (one Redis or a Cluster) with `enableAutoPipelining`; see createRedis's tracker role. */
  redis: RedisClient;
  /** Accepted sites, lower case. */
  sites: readonly string[];
  /** Redis key prefix. Default `rta`. */
  prefix?: string;
  /** Cardinality guard per site, dimension and minute. Default 10,000. */
  maxValuesPerDimension?: number;
  /**
   * Proxies trusted to report the client address in `X-Forwarded-For`: `false` (none),
   * `true` (one hop), a number of hops, or proxy addresses and CIDRs. Default false.
   */
  trustProxy?: ProxyTrustSetting;
  /** A visit ends after this many minutes without a hit. Default 30. */
  sessionIdleMinutes?: number;
  /** Sessions a site may create per session window before visits are estimated. Default 500,000. */
  sessionCap?: number;
  /** Keep sessions (visits) and the live view. Default true; off only for the benchmark's counters-only variant. */
  live?: boolean;
  /** Replicas that must have a hit's writes before it is answered (WAIT). Default 0. */
  waitReplicas?: number;
  /** How long that WAIT may take, ms. Default 1,000. */
  waitTimeoutMs?: number;
  /** Token of the dashboard and its APIs; undefined locks them (503). Default undefined. */
  dashboardToken?: string;
  /**
   * `/metrics`: with `ownPort` it is served only by the listener `listenMetrics` opens (the main
   * port answers 404); with `token` it wants `Authorization: Bearer <token>`. Default: open on
   * the main port.
   */
  metrics?: { ownPort?: boolean; token?: string };
  /**
   * The geolocation database (`.mmdb`) countries (and regions and cities, when it has them) come
   * from. Default: the one bundled with @rta/events (countries).
   */
  geoDatabase?: string;
  /** Goals of the dashboard (GOALS): custom event names and page paths. Default none. */
  goals?: readonly string[];
  /** Where `/api/history` reads from, and where the goals added on the dashboard are kept (the only write the tracker makes); absent = history answers 503. */
  warehouse?: Warehouse;
  /** Server clock in milliseconds; injectable for tests. Default `Date.now`. */
  clock?: () => number;
  logger: Logger;
  /** A failure that repeats per request (Redis down) is logged once per this interval, with a count (ms). Default 10,000. */
  repeatedLogIntervalMs?: number;
  /** Pause between attempts to fetch a visitor salt that Redis did not give (ms). Default 5,000. */
  saltRetryMs?: number;
}

export interface Tracker {
  server: Server;
  store: AnalyticsStore;
  /** Fetches today's visitor salt, then listens; rejects (listening nowhere) when Redis does not give the salt. */
  listen(port: number, host?: string): Promise<number>;
  /** Opens the listener that serves only `/metrics` (for `metrics.ownPort`). */
  listenMetrics(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** Client timeouts (ms): headers and whole requests that take longer get 408 and the connection is closed. */
export const CLIENT_TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, checkEveryMs: 1_000 } as const;

/** The HTTP service: pixel, beacon, browser script, health, metrics, and the dashboard with its APIs. */
export function createTracker(options: TrackerOptions): Tracker {
  const clock = options.clock ?? Date.now;
  const logger = options.logger;
  const metrics = createTrackerMetrics();
  const store = new AnalyticsStore(options.redis, {
    prefix: options.prefix,
    maxValuesPerDimension: options.maxValuesPerDimension,
    live: options.live === false ? undefined : { sessionIdleMinutes: options.sessionIdleMinutes ?? liveDefaults.sessionIdleMinutes, sessionCap: options.sessionCap },
    writes: {
      waitReplicas: options.waitReplicas,
      waitTimeoutMs: options.waitTimeoutMs,
      onSessionsCapped: (site, count) => metrics.sessionsCapped.inc({ site }, count),
    },
  });
  const assets = loadAssets();
  const limiter = new LogLimiter(logger, { intervalMs: options.repeatedLogIntervalMs });
  const salt = new DailySalt(store, clock, { limiter, logger, retryMs: options.saltRetryMs });
  const proxy = new ProxyTrust(options.trustProxy);
  const bots = new BotCounts(options.redis, store.keys);
  const gate = new TokenGate(new TokenAttempts(options.redis, store.keys), `${options.dashboardToken ?? ''}\u0000${options.metrics?.token ?? ''}`);
  const geo = new GeoDatabase(options.geoDatabase ?? bundledGeoDatabasePath());
  logger.info({ geoDatabase: geo.description }, 'geolocation database loaded');
  const ingest: IngestDeps = { store, bots, salt, sites: new Set(options.sites), metrics, proxy, clock, geo };
  const dashboard: DashboardDeps = {
    auth: new DashboardAuth(options.dashboardToken),
    gate,
    store,
    bots,
    warehouse: options.warehouse,
    sites: options.sites,
    goals: options.goals ?? [],
    clock,
    proxy,
    limiter,
  };
  // A TRACKER_WORKERS worker serves the metrics of every worker, gathered by the primary.
  const metricsText = cluster.isWorker ? workerMetricsText(metrics.registry) : () => metrics.registry.metrics();
  const served = metrics.requests.labels({ worker: String(cluster.worker?.id ?? 0) });
  const metricsDeps: MetricsDeps = { metrics, text: metricsText, gate, proxy, limiter, token: options.metrics?.token === undefined ? undefined : new SecretToken(options.metrics.token) };
  const metricsOnMainPort = !options.metrics?.ownPort;

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/p.gif' || path === '/e') {
      if (method === 'OPTIONS') return sendPreflight(res);
      if (path === '/p.gif' && (method === 'GET' || method === 'HEAD')) return handlePixel(req, res, ingest);
      if (path === '/e' && method === 'POST') return handleBeacon(req, res, ingest);
      req.resume();
      return sendJson(res, 405, { error: 'method_not_allowed' }, { ...CORS, Allow: path === '/e' ? 'POST, OPTIONS' : 'GET, OPTIONS' });
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
    if (path === '/api/export' && method === 'GET') return handleExport(req, res, dashboard);
    if (path === '/api/goals' && (method === 'GET' || method === 'POST' || method === 'DELETE')) return handleGoals(req, res, dashboard);
    if (path === '/healthz' && method === 'GET') {
      req.resume();
      const problem = await store.health(options.sites);
      return problem === undefined ? sendJson(res, 200, { status: 'ok' }) : sendJson(res, 503, { status: 'redis_unreachable', reason: problem });
    }
    if (path === '/metrics' && method === 'GET' && metricsOnMainPort) return handleMetrics(req, res, metricsDeps);
    req.resume();
    sendJson(res, 404, { error: 'not_found' });
  }

  /** Answers a request whose handler threw. Redis failures repeat per request, so they are logged once per interval. */
  function failed(req: IncomingMessage, res: ServerResponse, path: string, error: unknown): void {
    const unavailable = error instanceof RedisUnavailable;
    if (unavailable) limiter.warn({ err: error.cause ?? error }, error.message);
    else if (clientWentAway(req, error)) {
      logger.debug({ err: error, path }, 'client went away');
      return void res.destroy();
    } else logger.error({ err: error, path }, 'request failed');
    if (res.headersSent || res.destroyed) return void res.destroy();
    const status = unavailable ? 503 : 500;
    const headers: Record<string, string> = unavailable ? { 'Retry-After': '1' } : {};
    const body = { error: unavailable ? 'storage_unavailable' : 'internal_error' };
    if (path === '/p.gif') sendPixel(res, status, headers);
    else if (path === '/e') sendJson(res, status, body, { ...CORS, ...headers });
    else if (path === '/dashboard' || path === '/dashboard/login') sendDashboardFailure(res, status, headers);
    else sendJson(res, status, body, { ...PRIVATE, ...headers });
  }

  const serve = (handle: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>) =>
    createServer(
      {
        keepAliveTimeout: 65_000,
        headersTimeout: CLIENT_TIMEOUTS.headersMs,
        requestTimeout: CLIENT_TIMEOUTS.requestMs,
        connectionsCheckingInterval: CLIENT_TIMEOUTS.checkEveryMs,
      },
      (req, res) => {
        served.inc();
        const path = (req.url ?? '/').split('?')[0]!;
        handle(req, res, path).catch((error: unknown) => failed(req, res, path, error));
      },
    );
  const server = serve(route);
  const metricsServer = serve(async (req, res, path) => {
    if (path === '/metrics' && req.method === 'GET') return handleMetrics(req, res, metricsDeps);
    req.resume();
    sendJson(res, 404, { error: 'not_found' });
  });

  return {
    server,
    store,
    async listen(port, host) {
      try {
        await salt.start();
      } catch (error) {
        throw new Error(`REDIS_URL: cannot read the visitor salt from Redis (${(error as Error).message}); not listening`, { cause: error });
      }
      return listenOn(server, port, host);
    },
    listenMetrics: (port, host) => listenOn(metricsServer, port, host),
    async close() {
      salt.stop();
      await Promise.all([server, metricsServer].map(closeServer));
      limiter.flush();
    },
  };
}

async function listenOn(server: Server, port: number, host: string | undefined): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
