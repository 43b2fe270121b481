export { COMMANDS, runCommand, USAGE } from './commands.js';
export { formatRows, OUTPUT_FORMATS, type OutputFormat } from './output.js';
