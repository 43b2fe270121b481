import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The compiled CLI, what `pnpm cli` runs (test/support/global-setup.ts builds it). */
export const CLI = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
/** An empty working directory, so a developer's `.env` in the checkout never reaches a test. */
const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'rta-cwd-'));

/** Runs `pnpm cli <args>` as a separate process, with extra environment. */
export function spawnCli(args: string[], env: Record<string, string>, options: { cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? EMPTY_DIR,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Output (stdout and stderr) and exit of a child; `close` comes after its output is all read. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })));
}
