/**
 * A local Amazon Redshift Data API for tests, executing SQL on PostgreSQL. It speaks the wire
 * protocol of `@aws-sdk/client-redshift-data` (awsJson1_1: `POST /`, `x-amz-target:
 * RedshiftData.<Operation>`, JSON bodies, epoch-second timestamps) and ignores SigV4.
 *
 * Operations: ExecuteStatement, BatchExecuteStatement, DescribeStatement, GetStatementResult
 * (paged by `pageRows` with an opaque NextToken), CancelStatement. Errors carry the real
 * shapes (`__type` plus `x-amzn-errortype`, `message`, never a `code` key): ValidationException
 * (SQL over 100 KB, more than 40 statements, empty parameter value, reused ClientToken with
 * another request), ActiveStatementsExceededException (past `maxActiveStatements`),
 * ResourceNotFoundException (unknown id), InternalServerException (injected or unexpected).
 * Fault injection: `server.faults` (see faults.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultControls } from './faults.js';
import { PgExecutor, RAW_LONG } from './pg-executor.js';
import { ServiceError, StatementStore, validation, type Part, type ServerStats, type StatementRecord, type SubmitInput } from './statements.js';

export interface RedshiftDataServerOptions {
  /** PostgreSQL that runs the SQL, e.g. `postgres://postgres@127.0.0.1:5432/test`. */
  databaseUrl: string;
  /** Schema used as search_path (created if missing). Default `public`. */
  schema?: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** How long a ClientToken is remembered, milliseconds. Default 8 hours. */
  clientTokenTtlMs?: number;
  /** The server's clock (ClientToken expiry), milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Cap on SUBMITTED + STARTED statements. Default 200, as a real cluster. */
  maxActiveStatements?: number;
  /** Rows per GetStatementResult page. Default 1,000. */
  pageRows?: number;
  /** PostgreSQL connections. Default 8. */
  maxConnections?: number;
}

export interface RedshiftDataServer {
  /** `http://host:port`, the Data API endpoint to give the SDK. */
  readonly url: string;
  readonly port: number;
  readonly faults: FaultControls;
  readonly stats: ServerStats;
  /** The state of a statement by id (tests check e.g. that a timed-out one was cancelled). */
  statementStatus(id: string): string;
  close(): Promise<void>;
}

type Handler = (input: Record<string, unknown>) => Promise<unknown> | unknown;

/** The Data API remembers a ClientToken for 8 hours. */
export const CLIENT_TOKEN_TTL_MS = 8 * 3_600_000;

export async function startRedshiftDataServer(options: RedshiftDataServerOptions): Promise<RedshiftDataServer> {
  const executor = new PgExecutor(options.databaseUrl, options.schema ?? 'public', options.maxConnections ?? 8);
  await executor.prepare();
  const faults = new FaultControls();
  const stats: ServerStats = { requests: {}, statements: 0, tokenReplays: 0, sql: [] };
  const store = new StatementStore(
    executor,
    {
      maxActiveStatements: options.maxActiveStatements ?? 200,
      clientTokenTtlMs: options.clientTokenTtlMs ?? CLIENT_TOKEN_TTL_MS,
      now: options.now ?? Date.now,
    },
    faults,
    stats,
  );
  const pageRows = options.pageRows ?? 1_000;

  const handlers: Record<string, Handler> = {
    ExecuteStatement: (input) => submitted(store.submit(input as SubmitInput, false)),
    BatchExecuteStatement: (input) => submitted(store.submit(input as SubmitInput, true)),
    DescribeStatement: (input) => describe(store.find(String(input.Id))),
    GetStatementResult: (input) => resultPage(store.find(String(input.Id)), input.NextToken as string | undefined, pageRows),
    CancelStatement: async (input) => ({ Status: await store.cancel(String(input.Id)) }),
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^RedshiftData\./, '');
    stats.requests[operation] = (stats.requests[operation] ?? 0) + 1;
    const fault = faults.takeRequestFault(operation);
    if (fault?.when === 'before') return injectRequestFault(res, fault.kind);
    let status = 200;
    let payload: unknown;
    try {
      const handler = req.method === 'POST' ? handlers[operation] : undefined;
      if (!handler) throw validation(`unsupported operation ${JSON.stringify(operation)}`);
      let input: Record<string, unknown>;
      try {
        input = body.length === 0 ? {} : (JSON.parse(body) as Record<string, unknown>);
      } catch {
        throw new ServiceError('SerializationException', 400, 'request body is not JSON');
      }
      payload = await handler(input);
    } catch (error) {
      const e = error instanceof ServiceError ? error : new ServiceError('InternalServerException', 500, 'internal error');
      status = e.httpStatus;
      payload = { __type: `com.amazonaws.redshiftdata#${e.type}`, message: e.message, ...e.members };
      res.setHeader('x-amzn-errortype', e.type);
    }
    if (fault?.when === 'after') return injectRequestFault(res, fault.kind);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(toJson(payload));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    faults,
    stats,
    statementStatus: (id) => store.find(id).record.status,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.drain();
      await executor.close();
    },
  };
}

/** JSON with BIGINTs as exact JSON numbers, as the Data API writes `longValue` (see RAW_LONG). */
function toJson(payload: unknown): string {
  return JSON.stringify(payload).replace(new RegExp(`"${RAW_LONG}(-?\\d+)"`, 'g'), '$1');
}

function injectRequestFault(res: ServerResponse, kind: 'http-500' | 'drop-connection'): void {
  if (kind === 'drop-connection') {
    res.socket?.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalServerException' });
  res.end(JSON.stringify({ __type: 'com.amazonaws.redshiftdata#InternalServerException', message: 'injected internal error' }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** ExecuteStatement / BatchExecuteStatement output. */
function submitted(record: StatementRecord) {
  return { Id: record.id, CreatedAt: record.createdAt, ...record.target };
}

function describe({ record, part }: { record: StatementRecord; part: number | undefined }) {
  if (part !== undefined) return { ...partDescription(record, part), ...record.target };
  const single = record.batch ? undefined : record.parts[0]!;
  return {
    Id: record.id,
    Status: record.status,
    ...(record.error ? { Error: record.error } : {}),
    CreatedAt: record.createdAt,
    UpdatedAt: record.updatedAt,
    Duration: Math.round((record.updatedAt - record.createdAt) * 1e9),
    HasResultSet: single?.outcome?.hasResultSet ?? false,
    ResultRows: single?.outcome?.resultRows ?? -1,
    ResultSize: single?.outcome ? resultSize(single) : -1,
    RedshiftPid: record.pid ?? 0,
    RedshiftQueryId: 0,
    ...(single ? { QueryString: single.sql } : {}),
    ...(record.parameters ? { QueryParameters: record.parameters } : {}),
    ...(record.batch ? { SubStatements: record.parts.map((_, i) => partDescription(record, i)) } : {}),
    ...record.target,
  };
}

function partDescription(record: StatementRecord, index: number) {
  const part = record.parts[index]!;
  return {
    Id: `${record.id}:${index + 1}`,
    Status: part.status,
    ...(part.error ? { Error: part.error } : {}),
    CreatedAt: part.createdAt,
    UpdatedAt: part.updatedAt,
    Duration: Math.round((part.updatedAt - part.createdAt) * 1e9),
    QueryString: part.sql,
    HasResultSet: part.outcome?.hasResultSet ?? false,
    ResultRows: part.outcome?.resultRows ?? -1,
    ResultSize: part.outcome ? resultSize(part) : -1,
    RedshiftQueryId: 0,
  };
}

function resultSize(part: Part): number {
  return part.outcome?.hasResultSet ? Buffer.byteLength(JSON.stringify(part.outcome.records)) : -1;
}

function resultPage({ record, part }: { record: StatementRecord; part: number | undefined }, nextToken: string | undefined, pageRows: number) {
  if (record.batch && part === undefined) throw validation('a batch statement id needs the :N suffix of one of its statements');
  const target = record.parts[part ?? 0]!;
  if (target.status !== 'FINISHED') throw validation(`Query has not finished: it is ${target.status}.`);
  const outcome = target.outcome;
  if (!outcome?.hasResultSet) throw validation('Query does not have result. Please check query status with DescribeStatement.');
  let offset = 0;
  if (nextToken !== undefined) {
    const decoded = decodeToken(nextToken);
    if (!decoded || decoded.id !== record.id || decoded.part !== (part ?? 0)) throw validation('NextToken is invalid for this statement');
    offset = decoded.offset;
  }
  const end = offset + pageRows;
  return {
    Records: outcome.records.slice(offset, end),
    ColumnMetadata: outcome.columns,
    TotalNumRows: outcome.records.length,
    ...(end < outcome.records.length ? { NextToken: encodeToken({ id: record.id, part: part ?? 0, offset: end }) } : {}),
  };
}

interface PageToken {
  id: string;
  part: number;
  offset: number;
}
const encodeToken = (token: PageToken) => Buffer.from(JSON.stringify(token)).toString('base64url');
function decodeToken(text: string): PageToken | undefined {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as PageToken;
    return typeof token.id === 'string' && Number.isInteger(token.offset) ? token : undefined;
  } catch {
    return undefined;
  }
}
