export { runCommand, USAGE } from './commands.js';
export { formatTable } from './table.js';
