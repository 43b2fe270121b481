import { parseArgs } from 'node:util';
import { loadConfig } from '@rta/config';
import { runCommand, USAGE } from './commands.js';

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
  await runCommand(command, rest, values, config);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
