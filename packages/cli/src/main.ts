#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { debugOutputRequested, loadConfig, type WarehouseConfig } from '@rta/config';
import { runCommand, USAGE } from './commands.js';

/** The setting to fix when the warehouse cannot be opened or reached. */
const WAREHOUSE_VARIABLE: Record<WarehouseConfig['kind'], string> = {
  duckdb: 'DUCKDB_PATH',
  postgres: 'DATABASE_URL',
  redshift: 'WAREHOUSE=redshift (REDSHIFT_*, AWS_*)',
  snowflake: 'WAREHOUSE=snowflake (SNOWFLAKE_*)',
};
let warehouseKind: WarehouseConfig['kind'] | undefined;

/** `pnpm cli <command>`: parses the environment once, runs one command, exits 1 with one line on error. */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      now: { type: 'boolean', default: false },
      site: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      by: { type: 'string' },
      page: { type: 'string' },
      goal: { type: 'string' },
      dimension: { type: 'string' },
      filter: { type: 'string', multiple: true },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (!command || values.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Only the commands that count hits need SITES; flush, status, query and migrate do not.
  const config = loadConfig({ sitesRequired: ['start', 'tracker'].includes(command) });
  warehouseKind = config.warehouse.kind;
  await runCommand(command, rest, values, config);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`error: ${oneLine(error)}\n`);
  // The stack and the causes only when asked for (LOG_LEVEL may be what failed to parse).
  if (debugOutputRequested()) process.stderr.write(`${describe(error)}\n`);
  process.exit(1);
});

/** The message, prefixed with the warehouse's variable when the warehouse could not be opened or reached. */
function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, syscall } = error as Error & { code?: string; syscall?: string };
  // DuckDB's folder (DUCKDB_PATH's) is created before the file is opened.
  const fromWarehouse = code === 'WAREHOUSE_CONNECT' || (warehouseKind === 'duckdb' && (code === 'WAREHOUSE_CONFIG' || syscall === 'mkdir'));
  return fromWarehouse && warehouseKind ? `${WAREHOUSE_VARIABLE[warehouseKind]}: ${error.message}` : error.message;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause === undefined ? String(error.stack) : `${error.stack}\ncaused by: ${describe(error.cause)}`;
}
