/**
 * Runs the Snowflake test server by hand:
 *   npx tsx test/snowflake-server/main.ts --port 8085 --duckdb /tmp/x.duckdb
 * Options: --port (default 8085), --duckdb (default :memory:), --user / --password (default
 * rta / rta-test-password), --account (default rta-test), --long-query-ms, --abandoned-ms.
 * Prints the environment that points the pipeline at it; Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { startSnowflakeServer, snowflakeServerDefaults } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8085' },
    duckdb: { type: 'string', default: snowflakeServerDefaults.duckdbPath },
    user: { type: 'string', default: 'rta' },
    password: { type: 'string', default: 'rta-test-password' },
    account: { type: 'string', default: snowflakeServerDefaults.account },
    'long-query-ms': { type: 'string', default: String(snowflakeServerDefaults.longQueryMs) },
    'abandoned-ms': { type: 'string', default: String(snowflakeServerDefaults.abandonedTransactionMs) },
  },
});

const server = await startSnowflakeServer({
  port: Number(values.port),
  duckdbPath: values.duckdb,
  account: values.account,
  users: [{ username: values.user, password: values.password }],
  longQueryMs: Number(values['long-query-ms']),
  abandonedTransactionMs: Number(values['abandoned-ms']),
});

process.stdout.write(
  [
    `Snowflake test server on ${server.url} (DuckDB ${values.duckdb})`,
    'WAREHOUSE=snowflake',
    `SNOWFLAKE_ACCOUNT=${server.account}`,
    `SNOWFLAKE_USERNAME=${values.user}`,
    'SNOWFLAKE_PASSWORD=<the --password given>',
    'SNOWFLAKE_DATABASE=RTA',
    'SNOWFLAKE_SCHEMA=ANALYTICS',
    'SNOWFLAKE_WAREHOUSE=COMPUTE_WH',
    `SNOWFLAKE_ACCESS_URL=${server.url}`,
    '',
  ].join('\n'),
);

const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
