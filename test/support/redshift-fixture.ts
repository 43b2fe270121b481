/**
 * A Redshift warehouse for tests: the Data API test server on a random loopback port, backed by
 * a fresh PostgreSQL schema that `stop()` drops. Gives both the adapter options (same process)
 * and the environment a separate flusher process needs to reach the same server. The server
 * runs statements detached from requests, so a client SIGKILLed mid-load leaves it healthy.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RedshiftWarehouseOptions } from '@rta/warehouse';
import { startRedshiftDataServer, type RedshiftDataServer, type RedshiftDataServerOptions } from '../redshift-data-server/server.js';

export interface RedshiftFixture {
  /** WAREHOUSE=redshift plus the REDSHIFT_* and AWS_* variables for a child process. */
  env: Record<string, string>;
  /** Options for `createRedshiftWarehouse` in this process (fast polling). */
  options: RedshiftWarehouseOptions;
  /** The server, with `faults` (fault injection) and `stats`. */
  server: RedshiftDataServer;
  /** The PostgreSQL schema holding the tables. */
  schema: string;
  stop(): Promise<void>;
}

export type RedshiftFixtureOptions = Partial<Omit<RedshiftDataServerOptions, 'schema' | 'host' | 'port'>>;

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLUSTER = 'rta-test';
const DATABASE = 'dev';
const DB_USER = 'rta_loader';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export async function startRedshiftFixture(serverOptions: RedshiftFixtureOptions = {}): Promise<RedshiftFixture> {
  const databaseUrl = serverOptions.databaseUrl ?? DATABASE_URL;
  const schema = `rs_${randomBytes(6).toString('hex')}`;
  const server = await startRedshiftDataServer({ ...serverOptions, databaseUrl, schema, host: '127.0.0.1', port: 0 });
  const options: RedshiftWarehouseOptions = {
    clusterIdentifier: CLUSTER,
    database: DATABASE,
    dbUser: DB_USER,
    region: REGION,
    endpoint: server.url,
    credentials: CREDENTIALS,
    pollIntervalMs: 5,
  };
  const env: Record<string, string> = {
    WAREHOUSE: 'redshift',
    REDSHIFT_CLUSTER_ID: CLUSTER,
    REDSHIFT_DATABASE: DATABASE,
    REDSHIFT_DB_USER: DB_USER,
    AWS_REGION: REGION,
    REDSHIFT_DATA_ENDPOINT: server.url,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  };
  let stopped = false;
  return {
    env,
    options,
    server,
    schema,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
