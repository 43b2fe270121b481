/**
 * The snowflake-sdk driver behind promises: one connection (one Snowflake session), its
 * statements, and which failures are worth a new session and another attempt.
 */
import snowflake from 'snowflake-sdk';
import type { Bind, Column, Connection, SnowflakeError } from 'snowflake-sdk';
import type { ResolvedSnowflakeOptions } from './options.js';
import { driverConnectionOptions } from './options.js';
import { WarehouseError } from '../errors.js';
import { withDeadline } from '../timeouts.js';

export interface StatementOutcome {
  rows: Array<Record<string, unknown>>;
  columns: Column[];
  /** Rows inserted/updated/deleted by a DML statement (the driver adds up the result row). */
  updated: number;
}

/** Codes after which the session is not trusted any more: reconnect, then try again. */
const TRANSIENT_CODES = new Set([
  '401001', // network: could not connect / connection dropped after the driver's own retries
  '401002', // HTTP failure (5xx, 429) after the driver's own retries
  '401003', // response was not JSON (a proxy's error page)
  '401004', // invalid session token
  '402001',
  '402002',
  '405503', // connection is in the disconnected state
  '407001', // request on a connection that never connected
  '407002', // request on a connection the driver marked disconnected (after 390111/390104)
  '390104', // session token invalid
  '390111', // session gone (expired, or deleted by the server)
  '390112', // session token expired and the driver did not renew it
  '390114', // master token expired
]);

/** A load attempt that saw a statement applied twice; rolled back and tried again like a network error. */
export class RetryLoadError extends Error {
  override readonly name = 'RetryLoadError';
}

export function isTransient(error: unknown): boolean {
  if (error instanceof RetryLoadError) return true;
  // A deadline already waited a whole timeout: the next flush tries again, not this one.
  if (error instanceof WarehouseError && error.code === 'WAREHOUSE_TIMEOUT') return false;
  const e = error as SnowflakeError | undefined;
  if (e?.code !== undefined && TRANSIENT_CODES.has(String(e.code))) return true;
  return e?.name === 'NetworkError';
}

/** The driver's logging, set once per process before a connection exists (see `driverLogLevel`). */
export function configureDriverLogging(options: ResolvedSnowflakeOptions): void {
  const secrets = [options.password, options.privateKeyPassphrase].filter((s): s is string => !!s && s.length >= 4);
  const mask = (message: string) => secrets.reduce((text, secret) => text.split(secret).join('****'), message);
  const sink = options.driverLogger ?? ((level: string, message: string) => process.stderr.write(`snowflake-sdk ${level}: ${message}\n`));
  const forward = (level: string) => (message: string) => sink(level, mask(String(message)));
  snowflake.configure({
    logLevel: options.driverLogLevel,
    // Replaces the built-in winston logger, which would write ./snowflake.log and the console.
    customLogger: {
      error: forward('ERROR'),
      warn: forward('WARN'),
      info: forward('INFO'),
      debug: forward('DEBUG'),
      trace: forward('TRACE'),
    },
  });
}

/**
 * One Snowflake session. Every wait is bounded: logging in by `connectTimeoutMs`, each statement
 * by `statementTimeoutMs` (also set as the session's STATEMENT_TIMEOUT_IN_SECONDS, so Snowflake
 * itself stops a slow statement). A session that timed out is `broken`: the caller drops it and
 * opens another one. The driver may still retry the abandoned request in the background (its
 * retry policy is internal); if that request reaches Snowflake later it runs in the abandoned
 * session, whose transaction Snowflake rolls back when the session ends, and the ledger keeps
 * any load exactly once.
 */
export class SnowflakeSession {
  private lastUsed = Date.now();
  private timedOut = false;

  private constructor(
    private readonly connection: Connection,
    private readonly options: ResolvedSnowflakeOptions,
  ) {}

  static async open(options: ResolvedSnowflakeOptions): Promise<SnowflakeSession> {
    const connection = snowflake.createConnection(driverConnectionOptions(options));
    const connected = new Promise<void>((resolve, reject) => {
      connection.connect((error) => (error ? reject(error) : resolve()));
    });
    await withDeadline(connected, options.connectTimeoutMs, 'logging in to Snowflake', {
      onTimeout: () => void destroy(connection),
    });
    return new SnowflakeSession(connection, options);
  }

  /**
   * Runs one statement. `binds` is one row of positional values, or rows of them (an array bind:
   * one round trip, the statement applied to every row). Numbers come back as strings so the
   * caller can convert them exactly.
   */
  execute(sqlText: string, binds: Bind[] | Bind[][] = []): Promise<StatementOutcome> {
    this.lastUsed = Date.now();
    const done = new Promise<StatementOutcome>((resolve, reject) => {
      this.connection.execute({
        sqlText,
        binds,
        fetchAsString: ['Number'],
        complete: (error, statement, rows) => {
          this.lastUsed = Date.now();
          if (error) return reject(error);
          resolve({
            rows: (rows ?? []) as Array<Record<string, unknown>>,
            columns: statement.getColumns() ?? [],
            updated: statement.getNumUpdatedRows() ?? 0,
          });
        },
      });
    });
    return withDeadline(done, this.options.statementTimeoutMs, 'a Snowflake statement', {
      onTimeout: () => {
        this.timedOut = true;
      },
    });
  }

  /** False once a statement timed out, the driver saw the session end, or it sat unused past `idleTimeoutMs`. */
  isUsable(): boolean {
    return !this.timedOut && this.connection.isUp() && Date.now() - this.lastUsed < this.options.idleTimeoutMs;
  }

  /**
   * Ends the session (Snowflake rolls back its open transaction). Never throws, and never waits
   * longer than `connectTimeoutMs` for a Snowflake that does not answer.
   */
  async close(): Promise<void> {
    if (!this.connection.isUp()) return;
    await withDeadline(destroy(this.connection), this.options.connectTimeoutMs, 'ending the Snowflake session').catch(() => undefined);
  }
}

function destroy(connection: Connection): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      connection.destroy(() => resolve());
    } catch {
      resolve();
    }
  });
}
