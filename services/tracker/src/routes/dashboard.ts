import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AnalyticsStore } from '@rta/redis-store';
import type { Warehouse } from '@rta/warehouse';
import { DashboardAuth, type DashboardAccess } from '../dashboard-auth.js';
import { readHistory } from '../history.js';
import { BodyTooLarge, clientIp, readBody } from '../http.js';
import { dashboardPage, loginPage, lockedPage } from '../dashboard-html.js';

export interface DashboardDeps {
  auth: DashboardAuth;
  store: AnalyticsStore;
  /** Source of `/api/history`; absent = history answers 503. */
  warehouse: Warehouse | undefined;
  sites: readonly string[];
  clock: () => number;
  /** Login cookies get `Secure` when the request came over HTTPS (X-Forwarded-Proto with trustProxy). */
  trustProxy: boolean;
  logger: Logger;
}

const PRIVATE = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
const HTML_HEADERS = {
  ...PRIVATE,
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};
const MAX_RANGE_DAYS = 366;

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...HTML_HEADERS, 'Content-Length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

/** JSON of the dashboard APIs: private (no CORS header, never cached). */
function sendApi(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...PRIVATE, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const DENIED: Record<Exclude<DashboardAccess, 'granted'>, { status: number; error: string; message: string }> = {
  disabled: { status: 503, error: 'dashboard_disabled', message: 'The dashboard is locked: set DASHBOARD_TOKEN on the tracker to enable it.' },
  missing: { status: 401, error: 'unauthorized', message: 'Send Authorization: Bearer <DASHBOARD_TOKEN> or log in at /dashboard.' },
  invalid: { status: 401, error: 'unauthorized', message: 'The token is not valid.' },
};

/** `GET /dashboard`: the page when the token or login cookie is valid, else the login form (401) or the locked notice (503). */
export function handleDashboardPage(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): void {
  req.resume();
  const access = deps.auth.check(req);
  if (access === 'granted') return sendHtml(res, 200, dashboardPage(deps.sites));
  if (access === 'disabled') return sendHtml(res, 503, lockedPage(DENIED.disabled.message));
  sendHtml(res, 401, loginPage(access === 'invalid' ? 'That token is not valid.' : undefined), { 'WWW-Authenticate': 'Bearer realm="dashboard"' });
}

/** `POST /dashboard/login` (form field `token`): sets the HttpOnly session cookie and redirects to the dashboard. */
export async function handleLogin(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  if (!deps.auth.enabled) {
    req.resume();
    return sendHtml(res, 503, lockedPage(DENIED.disabled.message));
  }
  let body: Buffer;
  try {
    body = await readBody(req, 4_096);
  } catch (error) {
    if (error instanceof BodyTooLarge) return sendHtml(res, 413, loginPage('That token is too long.'));
    throw error;
  }
  const ip = clientIp(req, deps.trustProxy);
  const wait = deps.auth.throttled(ip);
  if (wait > 0) return sendHtml(res, 429, loginPage(`Too many wrong tokens; try again in ${Math.ceil(wait / 60)} minutes.`), { 'Retry-After': String(wait) });
  const token = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
  if (!deps.auth.tokenMatches(token)) {
    deps.auth.recordFailure(ip);
    deps.logger.warn('dashboard login with a wrong token');
    return sendHtml(res, 401, loginPage('That token is not valid.'));
  }
  const proto = deps.trustProxy ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim() : '';
  const secure = proto === 'https' || (req.socket as { encrypted?: boolean }).encrypted === true;
  res.writeHead(303, { ...PRIVATE, Location: '/dashboard', 'Set-Cookie': deps.auth.loginCookie(secure), 'Content-Length': 0 });
  res.end();
}

export function handleLogout(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.writeHead(303, { ...PRIVATE, Location: '/dashboard', 'Set-Cookie': DashboardAuth.logoutCookie(), 'Content-Length': 0 });
  res.end();
}

/** Checks access and the `site` parameter shared by the APIs; answers the error itself and returns undefined when refused. */
function apiRequest(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): URLSearchParams | undefined {
  req.resume();
  const ip = clientIp(req, deps.trustProxy);
  const wait = deps.auth.throttled(ip);
  if (wait > 0) {
    sendApi(res, 429, { error: 'too_many_attempts', message: `too many wrong tokens; retry in ${wait} s` }, { 'Retry-After': String(wait) });
    return undefined;
  }
  const access = deps.auth.check(req);
  if (access === 'invalid') deps.auth.recordFailure(ip);
  if (access !== 'granted') {
    const denied = DENIED[access];
    sendApi(res, denied.status, { error: denied.error, message: denied.message });
    return undefined;
  }
  const params = new URL(req.url ?? '/', 'http://tracker').searchParams;
  const site = params.get('site') ?? deps.sites[0];
  if (!site || !deps.sites.includes(site)) {
    sendApi(res, 400, { error: 'unknown_site', message: `site must be one of ${deps.sites.join(', ')}` });
    return undefined;
  }
  params.set('site', site);
  return params;
}

/** A live view is shared by requests for up to this long (ms): many open dashboards cost Redis one read per second and site. */
const LIVE_SHARE_MS = 1_000;
const liveReads = new WeakMap<DashboardDeps, Map<string, { at: number; view: Promise<unknown> }>>();

/** `GET /api/live?site=…`: the live view from Redis only (works with the warehouse down). */
export async function handleLive(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  const params = apiRequest(req, res, deps);
  if (!params) return;
  const site = params.get('site')!;
  const now = deps.clock();
  let reads = liveReads.get(deps);
  if (!reads) liveReads.set(deps, (reads = new Map()));
  let read = reads.get(site);
  if (!read || now - read.at >= LIVE_SHARE_MS || now < read.at) {
    read = { at: now, view: deps.store.readLive(site, now) };
    reads.set(site, read);
    read.view.catch(() => reads.delete(site));
  }
  sendApi(res, 200, await read.view);
}

/** `GET /api/history?site=…&from=…&to=…` (ISO-8601 UTC; default the last 30 days): the warehouse through the SQL pack. */
export async function handleHistory(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  const params = apiRequest(req, res, deps);
  if (!params) return;
  const now = deps.clock();
  const to = parseTime(params.get('to')) ?? new Date(Math.floor(now / 86_400_000) * 86_400_000 + 86_400_000);
  const from = parseTime(params.get('from')) ?? new Date(to.getTime() - 30 * 86_400_000);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || !(from < to) || to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
    return sendApi(res, 400, { error: 'invalid_range', message: `from and to must be ISO-8601 times, from before to, at most ${MAX_RANGE_DAYS} days apart` });
  }
  if (!deps.warehouse) return sendApi(res, 503, { error: 'warehouse_unavailable', message: 'This tracker has no warehouse configured.' });
  try {
    sendApi(res, 200, await readHistory(deps.warehouse, { site: params.get('site')!, from, to }, now));
  } catch (error) {
    deps.logger.warn({ err: error }, 'history query failed');
    sendApi(res, 503, { error: 'warehouse_unavailable', message: 'The warehouse did not answer; the live view still works.' });
  }
}

function parseTime(text: string | null): Date | undefined {
  if (text === null || text === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z?)?$/.test(text)) return new Date(NaN);
  return new Date(text.length === 10 ? `${text}T00:00:00Z` : text.endsWith('Z') ? text : `${text}Z`);
}

