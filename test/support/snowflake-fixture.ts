/**
 * A Snowflake warehouse for tests that need one: the test server on a random loopback port over
 * a fresh DuckDB file, plus the adapter options and the environment a separate flusher process
 * needs to reach it. `server.faults` switches failures on; `stop()` closes the server and
 * deletes the database.
 *
 * A process SIGKILLed mid-load never deletes its session: its open transaction is rolled back
 * once it has been idle `abandonedTransactionMs` (default here 2 s), or at once through
 * `server.reapAbandonedSessions()`. DuckDB does not block a later load on it meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnowflakeWarehouseOptions } from '@rta/warehouse';
import { startSnowflakeServer, type SnowflakeServerOptions, type SnowflakeTestServer } from '../snowflake-server/server.js';

export interface SnowflakeFixture {
  env: Record<string, string>;
  options: SnowflakeWarehouseOptions;
  server: SnowflakeTestServer;
  /** The DuckDB file behind the server. */
  duckdbPath: string;
  stop(): Promise<void>;
}

const USERNAME = 'rta';
const PASSWORD = 'rta-test-password';

export async function startSnowflakeFixture(serverOptions: SnowflakeServerOptions = {}): Promise<SnowflakeFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'rta-snowflake-'));
  const duckdbPath = join(dir, 'snowflake.duckdb');
  const server = await startSnowflakeServer({
    duckdbPath,
    users: [{ username: USERNAME, password: PASSWORD }],
    abandonedTransactionMs: 2000,
    longQueryMs: 2000,
    ...serverOptions,
  });
  const options: SnowflakeWarehouseOptions = {
    account: server.account,
    username: USERNAME,
    password: PASSWORD,
    database: 'RTA',
    schema: 'ANALYTICS',
    warehouse: 'COMPUTE_WH',
    accessUrl: server.url,
    retryBackoffMs: 50,
  };
  const env: Record<string, string> = {
    WAREHOUSE: 'snowflake',
    SNOWFLAKE_ACCOUNT: options.account,
    SNOWFLAKE_USERNAME: options.username,
    SNOWFLAKE_PASSWORD: PASSWORD,
    SNOWFLAKE_DATABASE: options.database,
    SNOWFLAKE_SCHEMA: options.schema,
    SNOWFLAKE_WAREHOUSE: options.warehouse!,
    SNOWFLAKE_ACCESS_URL: server.url,
  };
  return {
    env,
    options,
    server,
    duckdbPath,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
