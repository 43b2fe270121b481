/**
 * The real `@aws-sdk/client-redshift-data` client pointed at a Data API test server, with the
 * few steps the tests repeat: run a statement and wait for it to settle, and a PostgreSQL
 * session on the served schema for holding locks the server's statements wait on.
 */
import pg from 'pg';
import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  RedshiftDataClient,
  type DescribeStatementCommandOutput,
} from '@aws-sdk/client-redshift-data';
import type { RedshiftFixture } from '../support/redshift-fixture.js';
import { DATABASE_URL } from '../support/warehouses.js';
import { until } from '../support/wait.js';

export const target = { ClusterIdentifier: 'rta-test', Database: 'dev', DbUser: 'tester' };

/** The SDK with its own retries off, as the reference recommends for a test server. */
export function sdkClient(fixture: RedshiftFixture): RedshiftDataClient {
  return new RedshiftDataClient({ endpoint: fixture.server.url, region: 'us-east-1', credentials: fixture.options.credentials!, maxAttempts: 1 });
}

/** Polls until the statement reaches one of `statuses` (default: any final one). */
export async function settle(
  client: RedshiftDataClient,
  id: string,
  statuses = ['FINISHED', 'FAILED', 'ABORTED'],
): Promise<DescribeStatementCommandOutput> {
  let described: DescribeStatementCommandOutput | undefined;
  await until(
    async () => {
      described = await client.send(new DescribeStatementCommand({ Id: id }));
      return statuses.includes(described.Status!);
    },
    { what: `statement ${id} to become ${statuses.join(' or ')}` },
  );
  return described!;
}

/** ExecuteStatement (as `dbUser`, default `tester`), then its final description. */
export async function run(client: RedshiftDataClient, Sql: string, Parameters?: { name: string; value: string }[], dbUser = target.DbUser) {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...target, DbUser: dbUser, Sql, ...(Parameters ? { Parameters } : {}) }));
  return { id: Id!, described: await settle(client, Id!) };
}

/** A PostgreSQL session on the fixture's schema. */
export async function pgSession(fixture: RedshiftFixture): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${fixture.schema}` });
  await client.connect();
  return client;
}
