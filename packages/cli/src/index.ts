export { COMMANDS, runCommand, USAGE } from './commands.js';
