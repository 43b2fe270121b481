/**
 * A Snowflake test server: the HTTP protocol `snowflake-sdk` speaks (reference §2), executing
 * SQL on DuckDB. The real driver reaches it with `accessUrl: server.url` and an explicit
 * `account`. One DuckDB database per server; one DuckDB connection per session.
 *
 * Routes: login, token renewal, heartbeat, session delete, query-request, result polling
 * (`/queries/<id>/result`), query status (`/monitoring/queries/<id>`), abort (acknowledged, not
 * acted on) and telemetry. Results are always inline JSON rowsets.
 *
 * Stricter than it needs to be for the driver, where Snowflake is: requests over
 * `maxRequestBytes` of SQL and binds, stage binding, undocumented array-bind shapes and
 * HLL_IMPORT of a non-OBJECT are refused (rules.ts); PRIMARY KEY and UNIQUE are not enforced
 * (translate.ts); UPDATE, DELETE and MERGE wait for each other's table locks (locks.ts). Login
 * sends CLIENT_STAGE_ARRAY_BINDING_THRESHOLD = 65,280 as Snowflake does, so a client that lets
 * the driver stage large array binds fails here as it would there.
 *
 * Abandoned sessions: a client killed mid-load never sends session delete, so its session keeps
 * an open DuckDB transaction. DuckDB's optimistic concurrency does not block others on it, but
 * it holds memory and, were it ever committed, would conflict. A session whose transaction has
 * been idle (no request in flight) for `abandonedTransactionMs` is therefore closed: the
 * transaction rolls back and the session's later requests get 390111 (session gone), as a
 * Snowflake client whose session expired would. Sessions without an open transaction live
 * until deleted or until their master token expires.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { registerHllFunctions } from './hll-functions.js';
import { authenticate, type LoginData, type TestUser } from './auth.js';
import { FaultInjector } from './faults.js';
import { TableLocks } from './locks.js';
import { checkRequest, MAX_REQUEST_BYTES, requestBytes, STAGE_BINDING_REFUSED, type RuleViolation } from './rules.js';
import { Session, SqlError, toSqlError } from './session.js';
import type { WireBindings } from './binds.js';
import { failure, readBody, success, RESULT_PARAMETERS, type Body } from './protocol.js';

export interface SnowflakeServerOptions {
  /** DuckDB database file. Default `:memory:`. */
  duckdbPath?: string;
  /** Loopback port. Default 0 (any free port). */
  port?: number;
  /** Account name the driver must send. Default `rta-test`. */
  account?: string;
  /** Who may log in. Default one user `rta` with password `rta-test-password`. */
  users?: TestUser[];
  /** Session token lifetime, seconds. Default 3600. */
  sessionTokenValiditySeconds?: number;
  /** Master token lifetime, seconds. Default 14400. */
  masterTokenValiditySeconds?: number;
  /**
   * How long a query-request (or a result poll) waits for the statement before answering
   * `333333` (still running) with a `getResultUrl`, ms. Snowflake waits about 45 s. Default 2000.
   */
  longQueryMs?: number;
  /** Idle time after which a session's open transaction counts as abandoned, ms. Default 30,000. */
  abandonedTransactionMs?: number;
  /** Answer a retried request (same requestId) with the stored answer. Default true. */
  dedupeRetries?: boolean;
  /** Largest request (SQL text plus bound values) accepted, bytes. Default 1,000,000 (Snowflake's advice). */
  maxRequestBytes?: number;
}

export const snowflakeServerDefaults = {
  duckdbPath: ':memory:',
  port: 0,
  account: 'rta-test',
  users: [{ username: 'rta', password: 'rta-test-password' }] as TestUser[],
  sessionTokenValiditySeconds: 3600,
  masterTokenValiditySeconds: 14400,
  longQueryMs: 2000,
  abandonedTransactionMs: 30_000,
  dedupeRetries: true,
  maxRequestBytes: MAX_REQUEST_BYTES,
};

export interface SnowflakeTestServer {
  /** `http://127.0.0.1:<port>`, the driver's `accessUrl`. */
  readonly url: string;
  readonly port: number;
  readonly account: string;
  readonly faults: FaultInjector;
  /** SQL text of every query-request executed, in order (retries answered from storage excluded). */
  readonly queryLog: string[];
  /** Requests seen per route, for tests that check the driver took a path (polling, renewal…). */
  readonly stats: {
    logins: number;
    renewals: number;
    resultPolls: number;
    sessionDeletes: number;
    /** Stage-binding attempts refused (rules.ts). */
    refusedStageBindings: number;
    /** The largest query-request seen, SQL text plus bound values, bytes. */
    largestRequestBytes: number;
  };
  /** Sessions currently open. */
  sessionCount(): number;
  /** Statements waiting for a table lock (an UPDATE, DELETE or MERGE of another session holds it). */
  lockWaits(): number;
  /** Closes abandoned sessions now instead of waiting for the timer; returns how many. */
  reapAbandonedSessions(olderThanMs?: number): Promise<number>;
  close(): Promise<void>;
}

type Answer = { status?: number; body: Body } | 'drop';

/** Answers kept for result polls and retried requests; older ones are forgotten. */
const KEPT_ANSWERS = 1000;

export async function startSnowflakeServer(options: SnowflakeServerOptions = {}): Promise<SnowflakeTestServer> {
  const settings = { ...snowflakeServerDefaults, ...options };
  const duckdb = await DuckDBInstance.create(settings.duckdbPath);
  const sessions = new Map<string, Session>(); // by session token
  const goneTokens = new Set<string>();
  const queries = new Map<string, { session: Session; result: Promise<Body> }>();
  const faults = new FaultInjector();
  const locks = new TableLocks();
  const queryLog: string[] = [];
  const stats = { logins: 0, renewals: 0, resultPolls: 0, sessionDeletes: 0, refusedStageBindings: 0, largestRequestBytes: 0 };
  let nextSessionId = 1;

  faults.expireAllTokens = () => {
    for (const session of sessions.values()) session.tokenExpiresAt = 0;
  };

  function tokenFromHeader(req: IncomingMessage): string {
    const match = /Snowflake Token="([^"]*)"/.exec(req.headers.authorization ?? '');
    return match?.[1] ?? '';
  }

  /** The session of a request, or the error answer the driver expects. */
  function sessionFor(req: IncomingMessage): Session | Body {
    const token = tokenFromHeader(req);
    const session = sessions.get(token);
    if (!session) {
      return goneTokens.has(token)
        ? failure('390111', 'Session no longer exists. New login required to access the service.')
        : failure('390104', 'Session token not found in the request data.');
    }
    if (session.tokenExpiresAt < Date.now()) return failure('390112', 'Session token expired.');
    session.lastActivity = Date.now();
    return session;
  }

  async function closeSession(session: Session): Promise<void> {
    sessions.delete(session.token);
    goneTokens.add(session.token);
    await session.close();
  }

  function issueTokens() {
    const now = Date.now();
    return {
      token: `ST-${randomBytes(16).toString('hex')}`,
      masterToken: `MT-${randomBytes(16).toString('hex')}`,
      tokenExpiresAt: now + settings.sessionTokenValiditySeconds * 1000,
      masterExpiresAt: now + settings.masterTokenValiditySeconds * 1000,
    };
  }

  async function login(url: URL, body: Body): Promise<Answer> {
    const data = (body.data ?? {}) as LoginData;
    if ((data.ACCOUNT_NAME ?? '').toUpperCase() !== settings.account.toUpperCase()) {
      return { body: failure('390201', `Account ${data.ACCOUNT_NAME ?? ''} does not exist.`) };
    }
    const user = authenticate(settings.users, settings.account, data);
    if (!user) return { body: failure('390100', 'Incorrect username or password was specified.') };
    await reap(settings.abandonedTransactionMs); // a restarted client finds its old transaction gone
    const schema = url.searchParams.get('schemaName') ?? 'PUBLIC';
    const connection = await duckdb.connect();
    await registerHllFunctions(connection);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) {
      await connection.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await connection.run(`USE ${schema}`);
    }
    const info = {
      id: nextSessionId++,
      username: user.username,
      database: url.searchParams.get('databaseName') ?? 'RTA',
      schema,
      warehouse: url.searchParams.get('warehouse') ?? 'COMPUTE_WH',
      role: url.searchParams.get('roleName') ?? 'PUBLIC',
    };
    const tokens = issueTokens();
    const session = new Session(info, connection, tokens, locks);
    sessions.set(session.token, session);
    return {
      body: success({
        token: tokens.token,
        masterToken: tokens.masterToken,
        validityInSeconds: settings.sessionTokenValiditySeconds,
        masterValidityInSeconds: settings.masterTokenValiditySeconds,
        sessionId: info.id,
        // Snowflake's value: above it the driver stages array binds, which rules.ts refuses.
        parameters: [{ name: 'CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', value: 65_280 }],
        sessionInfo: {
          databaseName: info.database,
          schemaName: info.schema,
          warehouseName: info.warehouse,
          roleName: info.role,
        },
      }),
    };
  }

  function renew(req: IncomingMessage, body: Body): Answer {
    const master = tokenFromHeader(req);
    const session = [...sessions.values()].find((s) => s.masterToken === master);
    if (!session) return { body: failure('390104', 'Master token not found.') };
    if (session.masterExpiresAt < Date.now()) return { body: failure('390114', 'Master token expired.') };
    if (body.oldSessionToken !== session.token) return { body: failure('390104', 'Old session token mismatch.') };
    const tokens = issueTokens();
    sessions.delete(session.token);
    goneTokens.add(session.token);
    session.token = tokens.token;
    session.tokenExpiresAt = tokens.tokenExpiresAt;
    sessions.set(session.token, session);
    return {
      body: success({
        sessionToken: tokens.token,
        validityInSecondsST: settings.sessionTokenValiditySeconds,
        masterToken: session.masterToken,
        validityInSecondsMT: Math.round((session.masterExpiresAt - Date.now()) / 1000),
        sessionId: session.info.id,
      }),
    };
  }

  /** Runs a statement; the answer promise settles when it finishes, whoever waits for it. */
  function startQuery(session: Session, sql: string, bindings: WireBindings | undefined, delayMs: number, held: Promise<void>[]): string {
    const queryId = randomUUID();
    queryLog.push(sql);
    const result = (async (): Promise<Body> => {
      await Promise.all(held);
      if (delayMs > 0) await sleep(delayMs);
      try {
        const r = await session.execute(sql, bindings);
        return success({
          queryId,
          statementTypeId: r.statementTypeId,
          queryResultFormat: 'json',
          version: 1,
          parameters: RESULT_PARAMETERS,
          rowtype: r.rowtype,
          rowset: r.rowset,
          total: r.rowset.length,
          returned: r.rowset.length,
          finalDatabaseName: session.info.database,
          finalSchemaName: session.info.schema,
          finalWarehouseName: session.info.warehouse,
          finalRoleName: session.info.role,
          queryContext: { entries: [] },
        });
      } catch (error) {
        const e = error instanceof SqlError ? error : toSqlError(error);
        return failure(e.code, e.message, e.sqlState, queryId);
      }
    })();
    queries.set(queryId, { session, result });
    if (queries.size > KEPT_ANSWERS) queries.delete(queries.keys().next().value!);
    return queryId;
  }

  /** The finished answer, or `333333` with the URL to poll when it takes longer than `longQueryMs`. */
  async function answerWhenReady(queryId: string): Promise<Body> {
    const query = queries.get(queryId);
    if (!query) return failure('000709', `Statement ${queryId} not found`, '02000');
    const pending = Symbol('pending');
    const first = await Promise.race([query.result, sleep(settings.longQueryMs).then(() => pending)]);
    if (first !== pending) return first as Body;
    return {
      success: true,
      code: '333333',
      message: 'Query execution in progress',
      data: { queryId, getResultUrl: `/queries/${queryId}/result` },
    };
  }

  async function queryRequest(req: IncomingMessage, url: URL, body: Body): Promise<Answer> {
    const found = sessionFor(req);
    if (!(found instanceof Session)) return { body: found };
    const session = found;
    const requestId = url.searchParams.get('requestId') ?? randomUUID();
    const stored = settings.dedupeRetries ? session.responses.get(requestId) : undefined;
    if (stored) return { body: (await stored) as Body };
    const sql = String(body.sqlText ?? '');
    stats.largestRequestBytes = Math.max(stats.largestRequestBytes, requestBytes(sql, body.bindings));
    try {
      checkRequest(sql, body.bindings, body.bindStage, settings.maxRequestBytes);
    } catch (error) {
      const e = error as RuleViolation;
      if (e.code === STAGE_BINDING_REFUSED) stats.refusedStageBindings++;
      return { body: failure(e.code, e.message, e.sqlState) };
    }
    const actions = faults.take(sql);
    let delayMs = 0;
    let dropAfter = false;
    const held: Promise<void>[] = [];
    for (const action of actions) {
      if (action.kind === 'hold') held.push(action.released);
      if (action.kind === 'drop' && action.when === 'before') return 'drop';
      if (action.kind === 'drop') dropAfter = true;
      if (action.kind === 'delay') delayMs += action.ms;
      if (action.kind === 'fail') {
        return { body: failure(action.code ?? '000603', action.message ?? 'Injected failure', action.sqlState ?? 'XX000') };
      }
      if (action.kind === 'expire-token') {
        session.tokenExpiresAt = 0;
        return { body: failure('390112', 'Session token expired.') };
      }
    }
    const queryId = startQuery(session, sql, body.bindings as WireBindings | undefined, delayMs, held);
    const answer = answerWhenReady(queryId);
    session.responses.set(requestId, answer);
    if (session.responses.size > KEPT_ANSWERS) session.responses.delete(session.responses.keys().next().value!);
    if (dropAfter) {
      await queries.get(queryId)!.result;
      return 'drop';
    }
    return { body: await answer };
  }

  async function route(req: IncomingMessage, url: URL, body: Body): Promise<Answer> {
    const path = url.pathname;
    if (req.method === 'POST' && path === '/session/v1/login-request') {
      stats.logins++;
      return login(url, body);
    }
    if (req.method === 'POST' && path === '/session/token-request') {
      stats.renewals++;
      return renew(req, body);
    }
    if (req.method === 'POST' && path === '/telemetry/send') return { body: { success: true } };
    if (req.method === 'POST' && path === '/queries/v1/query-request') return queryRequest(req, url, body);
    const found = sessionFor(req);
    if (!(found instanceof Session)) return { body: found };
    if (req.method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true') {
      stats.sessionDeletes++;
      await closeSession(found);
      return { body: success(null) };
    }
    if (req.method === 'POST' && path === '/session/heartbeat') return { body: success(null) };
    if (req.method === 'POST' && /^\/queries\/(v1|[^/]+)\/abort-request$/.test(path)) {
      return { body: success(null) };
    }
    const result = /^\/queries\/([^/]+)\/result$/.exec(path);
    if (req.method === 'GET' && result) {
      stats.resultPolls++;
      return { body: await answerWhenReady(result[1]!) };
    }
    const status = /^\/monitoring\/queries\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && status) {
      const query = queries.get(status[1]!);
      const done = query ? await Promise.race([query.result.then((b) => (b.success ? 'SUCCESS' : 'FAILED_WITH_ERROR')), sleep(0).then(() => 'RUNNING')]) : 'NO_DATA';
      return { body: success({ queries: [{ id: status[1], status: done }] }) };
    }
    return { status: 404, body: failure('000404', `No route ${req.method} ${path}`) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: Answer;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      answer = await route(req, url, await readBody(req));
    } catch (error) {
      answer = { status: 500, body: failure('261000', `Test server error: ${(error as Error).message}`) };
    }
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  async function reap(olderThanMs: number): Promise<number> {
    const now = Date.now();
    const abandoned = [...sessions.values()].filter(
      (s) => (s.inTransaction && s.pending === 0 && now - s.lastActivity >= olderThanMs) || s.masterExpiresAt < now,
    );
    for (const session of abandoned) await closeSession(session);
    return abandoned.length;
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(settings.port, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const reaper = setInterval(() => void reap(settings.abandonedTransactionMs), Math.min(1000, settings.abandonedTransactionMs));
  reaper.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    account: settings.account,
    faults,
    queryLog,
    stats,
    sessionCount: () => sessions.size,
    lockWaits: () => locks.waiting(),
    reapAbandonedSessions: (olderThanMs = 0) => reap(olderThanMs),
    async close() {
      clearInterval(reaper);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of [...sessions.values()]) await closeSession(session);
      duckdb.closeSync();
    },
  };
}
