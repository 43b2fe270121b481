/**
 * The real snowflake-sdk driver pointed at a test server, behind promises, for the server's own
 * tests. Driver logging is off so a test run prints nothing of it (and no ./snowflake.log).
 */
import snowflake from 'snowflake-sdk';
import type { Binds, Column, Connection, ConnectionOptions, SnowflakeError } from 'snowflake-sdk';
import type { SnowflakeTestServer } from './server.js';

snowflake.configure({ logLevel: 'OFF' });

export interface DriverResult {
  rows: Array<Record<string, unknown>>;
  columns: Column[];
  updated: number | undefined;
}

export interface DriverClient {
  connection: Connection;
  exec(sqlText: string, binds?: Binds): Promise<DriverResult>;
  /** The driver's error for a statement expected to fail. */
  fail(sqlText: string, binds?: Binds): Promise<SnowflakeError>;
  close(): Promise<void>;
}

export async function connectDriver(
  server: SnowflakeTestServer,
  options: Partial<ConnectionOptions> = {},
): Promise<DriverClient> {
  const connection = snowflake.createConnection({
    account: server.account,
    accessUrl: server.url,
    username: 'rta',
    password: 'rta-test-password',
    database: 'RTA',
    schema: 'PUBLIC',
    warehouse: 'COMPUTE_WH',
    ...options,
  });
  await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
  const exec = (sqlText: string, binds?: Binds) =>
    new Promise<DriverResult>((resolve, reject) => {
      connection.execute({
        sqlText,
        ...(binds ? { binds } : {}),
        complete: (error, statement, rows) =>
          error
            ? reject(error)
            : resolve({ rows: rows ?? [], columns: statement.getColumns() ?? [], updated: statement.getNumUpdatedRows() }),
      });
    });
  return {
    connection,
    exec,
    async fail(sqlText, binds) {
      try {
        await exec(sqlText, binds);
      } catch (error) {
        return error as SnowflakeError;
      }
      throw new Error(`expected "${sqlText}" to fail`);
    },
    close: () => new Promise<void>((resolve) => connection.destroy(() => resolve())),
  };
}

/** Connects and returns the login error, for credential tests. */
export async function loginError(server: SnowflakeTestServer, options: Partial<ConnectionOptions>): Promise<SnowflakeError | undefined> {
  try {
    const client = await connectDriver(server, { sfRetryMaxLoginRetries: 0, ...options });
    await client.close();
    return undefined;
  } catch (error) {
    return error as SnowflakeError;
  }
}
