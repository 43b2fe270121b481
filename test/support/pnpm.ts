import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

/**
 * pnpm as the README runs it, the command first, then its arguments: the pnpm running this
 * test (`pnpm test`), else the pinned version, found through npx but run without it (npx
 * would stand between a test's signals and pnpm).
 */
export function pnpm(): string[] {
  const current = process.env.npm_execpath;
  if (current && /pnpm/.test(current)) return [process.execPath, current];
  const bin = execFileSync('npx', ['-y', '-p', 'pnpm@10.20.0', 'sh', '-c', 'command -v pnpm'], { encoding: 'utf8' }).trim();
  return [process.execPath, realpathSync(bin)];
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
