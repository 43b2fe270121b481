import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseGoals, type LogLimiter } from '@rta/config';
import type { AnalyticsStore, BotCounts, LiveView } from '@rta/redis-store';
import {
  FILTER_DIMENSIONS,
  filterError,
  MAX_STORED_GOALS,
  listQueries,
  parseFilters,
  removeStoredGoal,
  runNamedQuery,
  siteGoals,
  storeGoal,
  storedGoals,
  type FilterDimension,
  type Filters,
  type Warehouse,
} from '@rta/warehouse';
import { formatRows } from '@rta/warehouse/query-output';
import { InvalidRange, resolveRange, type DateRange } from '../date-range.js';
import { DashboardAuth } from '../dashboard-auth.js';
import { RedisUnavailable } from '../count-events.js';
import { readHistory } from '../history.js';
import { BodyTooLarge, readBody, sendJson, sendText } from '../http.js';
import { dashboardPage, loginPage, lockedPage, unavailablePage } from '../dashboard-html.js';
import type { ProxyTrust } from '../proxy-trust.js';
import type { Admission, Presented, TokenGate } from '../token-gate.js';

export interface DashboardDeps {
  auth: DashboardAuth;
  gate: TokenGate;
  store: AnalyticsStore;
  bots: BotCounts;
  /** Source of `/api/history`; absent = history answers 503. */
  warehouse: Warehouse | undefined;
  sites: readonly string[];
  /** GOALS: the goals of every site, before those its dashboard added (in the warehouse). */
  goals: readonly string[];
  clock: () => number;
  /** The client address for the throttle; login cookies get `Secure` when a trusted proxy says the request came over HTTPS. */
  proxy: ProxyTrust;
  limiter: LogLimiter;
}

/** Headers of every dashboard response: never cached, never framed, no referrer, no CORS header (same origin only). */
export const PRIVATE = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
const HTML_HEADERS = {
  ...PRIVATE,
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...HTML_HEADERS, 'Content-Length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

/** The dashboard's pages when their handler failed: a page a person can read, not JSON. */
export function sendDashboardFailure(res: ServerResponse, status: 500 | 503, headers: Record<string, string>): void {
  const message = status === 503
    ? 'The dashboard cannot reach Redis right now. Reload in a moment; hits are answered 503 until Redis is back.'
    : 'Something went wrong on the server; its log has the details.';
  sendHtml(res, status, unavailablePage(message), headers);
}

/** JSON of the dashboard APIs: private (no CORS header, never cached). */
function sendApi(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, { ...PRIVATE, ...headers });
}

const DENIED: Record<Exclude<Presented | 'disabled', 'granted'>, { status: number; error: string; message: string }> = {
  disabled: { status: 503, error: 'dashboard_disabled', message: 'The dashboard is locked: set DASHBOARD_TOKEN on the tracker to enable it.' },
  missing: { status: 401, error: 'unauthorized', message: 'Send Authorization: Bearer <DASHBOARD_TOKEN> or log in at /dashboard.' },
  invalid: { status: 401, error: 'unauthorized', message: 'The token is not valid.' },
};

/** Runs what a request presented through the throttle; wrong tokens are logged without the token or the address. */
export async function admit(req: IncomingMessage, presented: Presented, deps: Pick<DashboardDeps, 'gate' | 'proxy' | 'limiter'>): Promise<Admission> {
  const admission = await deps.gate.admit(deps.proxy.clientIp(req), presented);
  if (admission === 'invalid') deps.limiter.warn({ path: (req.url ?? '').split('?')[0] }, 'wrong token presented');
  return admission;
}

function tooMany(seconds: number): string {
  return `Too many wrong tokens; try again in ${Math.ceil(seconds / 60)} minutes.`;
}

/** `GET /dashboard`: the page when the token or login cookie is valid, else the login form (401), 429 when throttled, or the locked notice (503). */
export async function handleDashboardPage(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  req.resume();
  const access = deps.auth.check(req);
  if (access === 'disabled') return sendHtml(res, 503, lockedPage(DENIED.disabled.message));
  const admission = await admit(req, access, deps);
  if (typeof admission === 'object') return sendHtml(res, 429, loginPage(tooMany(admission.blocked)), { 'Retry-After': String(admission.blocked) });
  if (admission === 'granted') return sendHtml(res, 200, dashboardPage(deps.sites));
  sendHtml(res, 401, loginPage(admission === 'invalid' ? 'That token is not valid.' : undefined), { 'WWW-Authenticate': 'Bearer realm="dashboard"' });
}

/** `POST /dashboard/login` (form field `token`): sets the HttpOnly session cookie and redirects to the dashboard. */
export async function handleLogin(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  if (!deps.auth.token) {
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
  const token = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
  const admission = await admit(req, deps.auth.token.matches(token) ? 'granted' : 'invalid', deps);
  if (typeof admission === 'object') return sendHtml(res, 429, loginPage(tooMany(admission.blocked)), { 'Retry-After': String(admission.blocked) });
  if (admission !== 'granted') return sendHtml(res, 401, loginPage('That token is not valid.'));
  const proto = deps.proxy.fromTrustedProxy(req) ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim() : '';
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
async function apiRequest(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<URLSearchParams | undefined> {
  req.resume();
  const access = deps.auth.check(req);
  if (access === 'disabled') {
    sendApi(res, DENIED.disabled.status, { error: DENIED.disabled.error, message: DENIED.disabled.message });
    return undefined;
  }
  const admission = await admit(req, access, deps);
  if (typeof admission === 'object') {
    sendApi(res, 429, { error: 'too_many_attempts', message: `too many wrong tokens; retry in ${admission.blocked} s` }, { 'Retry-After': String(admission.blocked) });
    return undefined;
  }
  if (admission !== 'granted') {
    const denied = DENIED[admission];
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
const liveReads = new WeakMap<DashboardDeps, Map<string, { at: number; view: Promise<LiveResponse> }>>();

/** `/api/live`: the live view plus the hits ignored as bots over the last hour (counted apart, in Redis, by every tracker). */
export type LiveResponse = LiveView & { botHitsLastHour: number };

/** `GET /api/live?site=…`: the live view from Redis only (works with the warehouse down). */
export async function handleLive(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  const params = await apiRequest(req, res, deps);
  if (!params) return;
  const site = params.get('site')!;
  const now = deps.clock();
  let reads = liveReads.get(deps);
  if (!reads) liveReads.set(deps, (reads = new Map()));
  let read = reads.get(site);
  if (!read || now - read.at >= LIVE_SHARE_MS || now < read.at) {
    read = { at: now, view: readLiveResponse(site, now, deps) };
    reads.set(site, read);
    read.view.catch(() => reads.delete(site));
  }
  sendApi(res, 200, await read.view);
}

/** The range of a history request (`range`, `from`, `to`); answers 400 itself and returns undefined when it is not one. */
function requestedRange(params: URLSearchParams, res: ServerResponse, deps: DashboardDeps): DateRange | undefined {
  try {
    return resolveRange({ range: params.get('range'), from: params.get('from'), to: params.get('to') }, deps.clock());
  } catch (error) {
    if (!(error instanceof InvalidRange)) throw error;
    sendApi(res, 400, { error: error.code, message: error.message });
    return undefined;
  }
}

/**
 * The filters of a history or export request: parameters named after a dimension of
 * FILTER_DIMENSIONS (`country=DE&page=/pricing`). Answers 400 itself and returns undefined
 * when one is not a filter.
 */
function requestedFilters(params: URLSearchParams, res: ServerResponse): Filters | undefined {
  try {
    return parseFilters(FILTER_DIMENSIONS.flatMap((d) => params.getAll(d).map((value) => [d, value] as const)));
  } catch (error) {
    sendApi(res, 400, { error: 'invalid_filter', message: (error as Error).message });
    return undefined;
  }
}

const WAREHOUSE_DOWN = { error: 'warehouse_unavailable', message: 'The warehouse did not answer; the live view still works.' };
const NO_WAREHOUSE = { error: 'warehouse_unavailable', message: 'This tracker has no warehouse configured.' };

/**
 * `GET /api/history?site=…&range=…` (a preset, see date-range.ts) or `&from=…&to=…` (ISO-8601
 * UTC, `to` exclusive; default the last 30 days), optionally filtered (`&country=DE…`, see
 * requestedFilters): the range and its previous period from the warehouse through the SQL pack.
 */
export async function handleHistory(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  const params = await apiRequest(req, res, deps);
  if (!params) return;
  const range = requestedRange(params, res, deps);
  if (!range) return;
  const filters = requestedFilters(params, res);
  if (!filters) return;
  if (!deps.warehouse) return sendApi(res, 503, NO_WAREHOUSE);
  try {
    const site = params.get('site')!;
    sendApi(res, 200, await readHistory(deps.warehouse, site, range, await siteGoals(deps.warehouse, site, deps.goals), undefined, filters));
  } catch (error) {
    deps.limiter.warn({ err: error }, 'history query failed');
    sendApi(res, 503, WAREHOUSE_DOWN);
  }
}

/** Rows of one CSV download at most (`limit`); the dashboard's table links ask for 1,000. */
const MAX_EXPORT_ROWS = 10_000;

/**
 * `GET /api/export?site=…&query=<name>&range=…|from=…&to=…[&by=hour|day][&limit=N]`: one query
 * of the SQL pack over the range as a CSV download, the file `pnpm cli query <name> --format csv`
 * prints for the same parameters (limit default 10, at most 10,000). The `filtered-*` queries
 * also take the history's filters and (`filtered-top`) `dimension`, `visitors` a filter on the
 * page alone; any other query with filters is a 400.
 */
export async function handleExport(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  const params = await apiRequest(req, res, deps);
  if (!params) return;
  const range = requestedRange(params, res, deps);
  if (!range) return;
  const name = params.get('query') ?? '';
  const limit = Number(params.get('limit') ?? 10);
  const by = params.get('by') ?? undefined;
  if (!deps.warehouse) return sendApi(res, 503, NO_WAREHOUSE);
  const query = listQueries(deps.warehouse.dialect).find((q) => q.name === name);
  if (!query) return sendApi(res, 400, { error: 'unknown_query', message: `query must be one of ${listQueries(deps.warehouse.dialect).map((q) => q.name).join(', ')}` });
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EXPORT_ROWS) return sendApi(res, 400, { error: 'invalid_limit', message: `limit must be a whole number from 1 to ${MAX_EXPORT_ROWS}` });
  if (by !== undefined && by !== 'hour' && by !== 'day') return sendApi(res, 400, { error: 'invalid_by', message: 'by must be hour or day' });
  const dimension = params.get('dimension') ?? undefined;
  if (query.params.includes('dimension') && !FILTER_DIMENSIONS.includes(dimension as FilterDimension)) {
    return sendApi(res, 400, { error: 'invalid_dimension', message: `${name} needs dimension: one of ${FILTER_DIMENSIONS.join(', ')}` });
  }
  const filters = requestedFilters(params, res);
  if (!filters) return;
  const unfilterable = filterError(query, filters);
  if (unfilterable) return sendApi(res, 400, { error: 'invalid_filter', message: unfilterable });
  const site = params.get('site')!;
  let csv: string;
  try {
    const goals = query.params.includes('goal') ? await siteGoals(deps.warehouse, site, deps.goals) : [];
    if (query.params.includes('goal') && goals.length === 0) return sendApi(res, 400, { error: 'no_goals', message: `${name} reports the site's goals (GOALS and those added on the dashboard), and it has none` });
    const rows = await runNamedQuery(deps.warehouse, name, { site, from: range.from, to: range.to, by, limit, goals, filters, dimension: dimension as FilterDimension | undefined });
    csv = formatRows(rows, 'csv', query.columns);
  } catch (error) {
    deps.limiter.warn({ err: error }, 'export query failed');
    return sendApi(res, 503, WAREHOUSE_DOWN);
  }
  const day = (d: Date) => d.toISOString().slice(0, d.getTime() % 86_400_000 === 0 ? 10 : 16).replace(':', '');
  // The site is one of SITES (host names): safe in a file name as it is.
  const file = `${site}_${name}_${day(range.from)}_${day(range.to)}.csv`;
  sendText(res, 200, csv, 'text/csv; charset=utf-8; header=present', { ...PRIVATE, 'Content-Disposition': `attachment; filename="${file}"` });
}

/**
 * `/api/goals?site=…`: `GET` answers the goals of GOALS (`configured`) and those the dashboard
 * added (`stored`, in the warehouse's `dashboard_goals`); `POST …&goal=<event or /path>` adds
 * one (201), `DELETE …&goal=…` removes one; both answer what `GET` does. Those of GOALS are
 * changed in GOALS only.
 */
export async function handleGoals(req: IncomingMessage, res: ServerResponse, deps: DashboardDeps): Promise<void> {
  const params = await apiRequest(req, res, deps);
  if (!params) return;
  if (!deps.warehouse) return sendApi(res, 503, NO_WAREHOUSE);
  const site = params.get('site')!;
  let goal: string | undefined;
  if (req.method !== 'GET') {
    let goals: string[];
    try {
      goals = parseGoals(params.get('goal') ?? '');
    } catch (error) {
      return sendApi(res, 400, { error: 'invalid_goal', message: (error as Error).message });
    }
    if (goals.length !== 1) return sendApi(res, 400, { error: 'invalid_goal', message: 'goal must be one custom event name or page path, such as signup or /thank-you' });
    goal = goals[0]!;
    if (req.method === 'DELETE' && deps.goals.includes(goal)) {
      return sendApi(res, 400, { error: 'configured_goal', message: `"${goal}" is one of GOALS; remove it there` });
    }
  }
  try {
    const stored = await storedGoals(deps.warehouse, site);
    if (req.method === 'POST' && !stored.includes(goal!) && !deps.goals.includes(goal!)) {
      if (stored.length >= MAX_STORED_GOALS) return sendApi(res, 400, { error: 'too_many_goals', message: `a site's dashboard can add at most ${MAX_STORED_GOALS} goals` });
      await storeGoal(deps.warehouse, site, goal!, new Date(deps.clock()));
    }
    if (req.method === 'DELETE') await removeStoredGoal(deps.warehouse, site, goal!);
    sendApi(res, req.method === 'POST' ? 201 : 200, { configured: deps.goals, stored: req.method === 'GET' ? stored : await storedGoals(deps.warehouse, site) });
  } catch (error) {
    deps.limiter.warn({ err: error }, 'goals query failed');
    sendApi(res, 503, WAREHOUSE_DOWN);
  }
}

async function readLiveResponse(site: string, now: number, deps: DashboardDeps): Promise<LiveResponse> {
  try {
    const [view, botHitsLastHour] = await Promise.all([deps.store.readLive(site, now), deps.bots.lastHour(site, now)]);
    return { ...view, botHitsLastHour };
  } catch (error) {
    throw new RedisUnavailable('cannot read the live view from Redis', { cause: error });
  }
}
