/**
 * The Data API calls the adapter makes, with its retry and polling policy in one place:
 * - every call is retried on throttling, 5xx, "too many active statements" and network errors
 *   (`maxAttempts` tries, backoff 100 ms doubling to 2 s, with jitter). The SDK's own retries are
 *   off (`maxAttempts: 1` on the client) so there is exactly one policy. A resubmission carries
 *   the same ClientToken, so a request that reached the service before its response was lost
 *   returns the original statement instead of running it again;
 * - a statement is polled with DescribeStatement (from `pollIntervalMs`, growing 1.5x to 2 s)
 *   until FINISHED, FAILED or ABORTED; past `statementTimeoutMs` it is cancelled (best effort)
 *   and reported as timed out.
 */
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

/** A statement still running after `statementTimeoutMs`; it was asked to cancel. */
export class StatementTimeoutError extends Error {
  override readonly name = 'StatementTimeoutError';
  constructor(
    readonly statementId: string,
    timeoutMs: number,
  ) {
    super(`statement ${statementId} did not finish within ${timeoutMs} ms and was cancelled`);
  }
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
  if (TRANSIENT.has(e.name) || e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|network|aborted/i.test(`${e.code ?? ''} ${e.message}`);
}

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
    this.client = new RedshiftDataClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: redshiftDefaults.http.requestTimeoutMs,
        connectionTimeout: redshiftDefaults.http.connectionTimeoutMs,
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

  /** ExecuteStatement; returns the statement id. Without a token the SDK draws a random one. */
  async execute(statement: DataApiStatement, clientToken?: string): Promise<string> {
    const output = await this.retrying(() =>
      this.client.send(
        new ExecuteStatementCommand({
          ...this.target,
          Sql: statement.sql,
          ...(statement.parameters ? { Parameters: statement.parameters } : {}),
          ...(clientToken ? { ClientToken: clientToken } : {}),
        }),
      ),
    );
    return output.Id!;
  }

  /** BatchExecuteStatement in TRANSACTION mode (all or nothing); returns the statement id. */
  async batch(sqls: string[], clientToken?: string): Promise<string> {
    const output = await this.retrying(() =>
      this.client.send(
        new BatchExecuteStatementCommand({
          ...this.target,
          Sqls: sqls,
          ...(clientToken ? { ClientToken: clientToken } : {}),
        }),
      ),
    );
    return output.Id!;
  }

  /** Polls until FINISHED (returned) or FAILED/ABORTED/timeout (thrown). */
  async wait(id: string): Promise<Described> {
    const deadline = Date.now() + this.options.statementTimeoutMs;
    let delay = this.options.pollIntervalMs;
    for (;;) {
      const described = await this.retrying(() => this.client.send(new DescribeStatementCommand({ Id: id })));
      switch (described.Status) {
        case 'FINISHED':
          return described;
        case 'FAILED':
        case 'ABORTED':
          throw new StatementFailedError(id, described.Status, failedSubStatementError(described));
      }
      if (Date.now() + delay > deadline) {
        await this.cancel(id);
        throw new StatementTimeoutError(id, this.options.statementTimeoutMs);
      }
      await sleep(delay);
      delay = Math.min(Math.ceil(delay * 1.5), redshiftDefaults.polling.maxPollIntervalMs);
    }
  }

  /** Every page of a finished statement's result (`id` or `id:N` for a batch's N-th statement). */
  async results(id: string): Promise<StatementResult> {
    const records: Field[][] = [];
    let columns: ColumnMetadata[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.retrying(() =>
        this.client.send(new GetStatementResultCommand({ Id: id, ...(token ? { NextToken: token } : {}) })),
      );
      if (page.ColumnMetadata) columns = page.ColumnMetadata;
      records.push(...(page.Records ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return { columns, records };
  }

  /** Best effort: a statement that already ended cannot be cancelled, which is fine. */
  async cancel(id: string): Promise<void> {
    await this.client.send(new CancelStatementCommand({ Id: id })).catch(() => undefined);
  }

  close(): void {
    this.client.destroy();
  }

  private async retrying<T>(call: () => Promise<T>): Promise<T> {
    const { baseBackoffMs, maxBackoffMs } = redshiftDefaults.retries;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= this.options.maxAttempts || !isTransient(error)) throw error;
        const backoff = Math.min(baseBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }
}

/** The statement's own error, or for a batch the error of the sub-statement that failed. */
function failedSubStatementError(described: Described): string | undefined {
  const sub = described.SubStatements?.find((s) => s.Error);
  return described.Error ?? sub?.Error;
}
