/**
 * Runs the Redshift Data API test server by hand:
 *   npx tsx test/redshift-data-server/main.ts --port 4566 --database-url postgres://postgres@127.0.0.1:5432/test [--schema public]
 * then point the adapter (or the AWS CLI: `aws redshift-data … --endpoint-url http://127.0.0.1:4566`)
 * at it with any credentials. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startRedshiftDataServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4566' },
    host: { type: 'string', default: '127.0.0.1' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    schema: { type: 'string', default: 'public' },
    'page-rows': { type: 'string', default: '1000' },
  },
});

const server = await startRedshiftDataServer({
  databaseUrl: values['database-url'],
  schema: values.schema,
  host: values.host,
  port: Number(values.port),
  pageRows: Number(values['page-rows']),
});
console.log(`Redshift Data API test server on ${server.url} (PostgreSQL schema ${values.schema})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
