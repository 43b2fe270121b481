/**
 * Another process holding a DuckDB file open for writing, as a `duckdb` shell would: DuckDB's
 * file lock is per process, so only a second process shows what the loader meets.
 */
import { spawn } from 'node:child_process';
import { ROOT } from './child.js';

export interface DuckDBFileHolder {
  /** Closes the file and ends the process. */
  release(): Promise<void>;
}

const HOLDER = `
const { DuckDBInstance } = require('@duckdb/node-api');
DuckDBInstance.create(process.argv[1]).then(async (instance) => {
  const connection = await instance.connect();
  await connection.run('SELECT 1');
  process.stdout.write('locked\\n');
  process.stdin.on('end', () => { connection.closeSync(); instance.closeSync(); process.exit(0); });
  process.stdin.resume();
});
`;

export async function holdDuckDBFile(path: string): Promise<DuckDBFileHolder> {
  const child = spawn(process.execPath, ['-e', HOLDER, path], { cwd: `${ROOT}packages/warehouse`, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the DuckDB holder exited with ${code} before locking ${path}`)));
  });
  return {
    async release() {
      child.stdin.end();
      await exited;
    },
  };
}
