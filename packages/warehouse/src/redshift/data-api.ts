/**
 * The Data API calls the adapter makes, with its retry, polling and timeout policy in one place:
 * - every operation (submit, poll, fetch results) runs against a deadline `statementTimeoutMs`
 *   after it began. Each HTTP request is aborted at that deadline (and after
 *   `redshiftDefaults.http.requestTimeoutMs`), so a Data API endpoint that accepts connections
 *   and never answers fails the operation on time;
 * - every call is retried on throttling, 5xx, "too many active statements" and network errors
 *   (`maxAttempts` tries, backoff 100 ms doubling to 2 s, with jitter, never past the
 *   deadline). The SDK's own retries are off (`maxAttempts: 1` on the client) so there is
 *   exactly one policy. A resubmission carries the same ClientToken, so a request that reached
 *   the service before its response was lost returns the original statement instead of
 *   running it again;
 * - a statement is polled with DescribeStatement (from `pollIntervalMs`, growing 1.5x to 2 s)
 *   until FINISHED, FAILED or ABORTED; at the deadline it is cancelled (best effort, in the
 *   background) and reported as timed out.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type ColumnMetadata,
  type DescribeStatementCommandOutput,
  type Field,
} from '@aws-sdk/client-redshift-data';
import { redshiftDefaults, type ResolvedRedshiftOptions } from './options.js';
import type { DataApiStatement } from './sql-literals.js';

/** A statement that ended FAILED or ABORTED; `message` carries the SQL error text. */
export class StatementFailedError extends Error {
  override readonly name = 'StatementFailedError';
  constructor(
    readonly statementId: string,
    readonly status: string,
    readonly sqlError: string | undefined,
  ) {
    super(`statement ${statementId} ${status}${sqlError ? `: ${sqlError}` : ''}`);
  }
}

/**
 * An operation that passed its deadline: a statement still running (it was asked to cancel),
 * or a Data API request that got no answer in time (`statementId` undefined).
 */
export class StatementTimeoutError extends Error {
  override readonly name = 'StatementTimeoutError';
  constructor(
    readonly statementId: string | undefined,
    timeoutMs: number,
  ) {
    super(
      statementId
        ? `statement ${statementId} did not finish within ${timeoutMs} ms and was cancelled`
        : `the Data API did not answer within ${timeoutMs} ms`,
    );
  }
}

/** When an operation must be over: `at` in epoch milliseconds, `timeoutMs` for messages. */
export interface Deadline {
  at: number;
  timeoutMs: number;
}

export type Described = DescribeStatementCommandOutput;

export interface StatementResult {
  columns: ColumnMetadata[];
  records: Field[][];
}

const TRANSIENT = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalServerException',
  'ServiceUnavailableException',
  'ActiveStatementsExceededException',
  'ActiveSessionsExceededException',
  'ActiveWaitingRequestsExceededException',
  'DatabaseConnectionException',
  'TimeoutError',
  'RequestTimeout',
]);

/** Throttling, 5xx and failures that never got an HTTP answer (reset, refused, timed out). */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string };
  if (e.name === 'AbortError') return false; // our own deadline
  if (TRANSIENT.has(e.name) || e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|network|aborted/i.test(`${e.code ?? ''} ${e.message}`);
}

/** Redshift error 1023: a concurrent transaction broke serializability; the transaction rolled back and can run again. */
export function isSerializableConflict(error: unknown): boolean {
  return error instanceof StatementFailedError && /\b1023\b|serializable isolation violation/i.test(error.sqlError ?? '');
}

/** Sends one command under the current attempt's abort signal. */
type Send = <T>(command: unknown) => Promise<T>;

export class DataApi {
  private readonly client: RedshiftDataClient;
  private readonly target: {
    ClusterIdentifier?: string;
    WorkgroupName?: string;
    Database: string;
    SecretArn?: string;
    DbUser?: string;
  };

  constructor(private readonly options: ResolvedRedshiftOptions) {
    // Kept-alive sockets close after `idleTimeoutMs` unused.
    const agent = { keepAlive: true, timeout: options.idleTimeoutMs };
    this.client = new RedshiftDataClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: Math.min(redshiftDefaults.http.requestTimeoutMs, options.statementTimeoutMs),
        connectionTimeout: options.connectTimeoutMs,
        httpAgent: new HttpAgent(agent),
        httpsAgent: new HttpsAgent(agent),
      },
    });
    this.target = {
      Database: options.database,
      ...(options.clusterIdentifier ? { ClusterIdentifier: options.clusterIdentifier } : {}),
      ...(options.workgroupName ? { WorkgroupName: options.workgroupName } : {}),
      ...(options.secretArn ? { SecretArn: options.secretArn } : {}),
      ...(options.dbUser ? { DbUser: options.dbUser } : {}),
    };
  }

  /** The deadline of an operation starting now. */
  deadline(): Deadline {
    return { at: Date.now() + this.options.statementTimeoutMs, timeoutMs: this.options.statementTimeoutMs };
  }

  /** ExecuteStatement; returns the statement id. Without a token the SDK draws a random one. */
  async execute(statement: DataApiStatement, deadline: Deadline, clientToken?: string): Promise<string> {
    const command = new ExecuteStatementCommand({
      ...this.target,
      Sql: statement.sql,
      ...(statement.parameters ? { Parameters: statement.parameters } : {}),
      ...(clientToken ? { ClientToken: clientToken } : {}),
    });
    const output = await this.retrying(deadline, (send) => send<{ Id?: string }>(command));
    return output.Id!;
  }

  /** BatchExecuteStatement in TRANSACTION mode (all or nothing); returns the statement id. */
  async batch(sqls: string[], deadline: Deadline, clientToken?: string): Promise<string> {
    const command = new BatchExecuteStatementCommand({ ...this.target, Sqls: sqls, ...(clientToken ? { ClientToken: clientToken } : {}) });
    const output = await this.retrying(deadline, (send) => send<{ Id?: string }>(command));
    return output.Id!;
  }

  /** Polls until FINISHED (returned) or FAILED/ABORTED/deadline (thrown). */
  async wait(id: string, deadline: Deadline): Promise<Described> {
    let delay = this.options.pollIntervalMs;
    for (;;) {
      let described: Described;
      try {
        described = await this.retrying(deadline, (send) => send<Described>(new DescribeStatementCommand({ Id: id })));
      } catch (error) {
        if (error instanceof StatementTimeoutError) this.cancelInBackground(id);
        throw error instanceof StatementTimeoutError ? new StatementTimeoutError(id, deadline.timeoutMs) : error;
      }
      switch (described.Status) {
        case 'FINISHED':
          return described;
        case 'FAILED':
        case 'ABORTED':
          throw new StatementFailedError(id, described.Status, failedSubStatementError(described));
      }
      if (Date.now() + delay > deadline.at) {
        this.cancelInBackground(id);
        throw new StatementTimeoutError(id, deadline.timeoutMs);
      }
      await sleep(delay);
      delay = Math.min(Math.ceil(delay * 1.5), redshiftDefaults.polling.maxPollIntervalMs);
    }
  }

  /** Every page of a finished statement's result (`id` or `id:N` for a batch's N-th statement). */
  async results(id: string, deadline: Deadline): Promise<StatementResult> {
    const records: Field[][] = [];
    let columns: ColumnMetadata[] = [];
    let nextToken: string | undefined;
    do {
      const command = new GetStatementResultCommand({ Id: id, ...(nextToken ? { NextToken: nextToken } : {}) });
      const page = await this.retrying(deadline, (send) =>
        send<{ ColumnMetadata?: ColumnMetadata[]; Records?: Field[][]; NextToken?: string }>(command),
      );
      if (page.ColumnMetadata) columns = page.ColumnMetadata;
      records.push(...(page.Records ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return { columns, records };
  }

  /**
   * Best effort and not awaited: a statement that already ended cannot be cancelled, which is
   * fine, and a Data API that does not answer must not hold up the timeout being reported.
   */
  private cancelInBackground(id: string): void {
    const signal = AbortSignal.timeout(this.options.connectTimeoutMs + redshiftDefaults.http.requestTimeoutMs);
    this.client.send(new CancelStatementCommand({ Id: id }), { abortSignal: signal }).catch(() => undefined);
  }

  close(): void {
    this.client.destroy();
  }

  /** Runs `call` until it succeeds, fails for good, or the deadline passes (StatementTimeoutError). */
  private async retrying<T>(deadline: Deadline, call: (send: Send) => Promise<T>): Promise<T> {
    const { baseBackoffMs, maxBackoffMs } = redshiftDefaults.retries;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline.at - Date.now();
      if (remaining <= 0) throw new StatementTimeoutError(undefined, deadline.timeoutMs);
      const signal = AbortSignal.timeout(remaining);
      const send: Send = (command) => this.client.send(command as never, { abortSignal: signal }) as Promise<never>;
      try {
        return await call(send);
      } catch (error) {
        if (signal.aborted) throw new StatementTimeoutError(undefined, deadline.timeoutMs);
        if (attempt >= this.options.maxAttempts || !isTransient(error)) throw error;
        const backoff = Math.min(baseBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
        const pause = backoff / 2 + Math.random() * (backoff / 2);
        if (Date.now() + pause >= deadline.at) throw new StatementTimeoutError(undefined, deadline.timeoutMs);
        await sleep(pause);
      }
    }
  }
}

/** The statement's own error, or for a batch the error of the sub-statement that failed. */
function failedSubStatementError(described: Described): string | undefined {
  const sub = described.SubStatements?.find((s) => s.Error);
  return described.Error ?? sub?.Error;
}
