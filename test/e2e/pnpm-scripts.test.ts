/**
 * The commands as the README writes them, through pnpm: `pnpm cli` prints only the command's
 * output (no pnpm banner), `pnpm start` stops with exit status 0 on Ctrl-C, and both build
 * first when the build is missing or older than a source (checked on a tree of its own, so no
 * test touches the checkout's sources).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projects, stampBuild, staleReason } from '../../scripts/build.mjs';
import { ROOT, exited } from '../support/child.js';
import { freePort, pnpm } from '../support/pnpm.js';
import { randomPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

describe('pnpm cli and pnpm start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rta-pnpm-'));
  const env = { ...process.env, LOG_LEVEL: 'warn', REDIS_PREFIX: randomPrefix(), DUCKDB_PATH: join(dir, 'warehouse.duckdb') };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pnpm cli prints the command output only', async () => {
    const [command, ...args] = pnpm();
    const status = await exited(spawn(command!, [...args, 'cli', 'status'], { cwd: ROOT, env, stdio: 'pipe' }));
    expect(status.code, status.output).toBe(0);
    expect(status.output).toMatch(/^metric +value\n/);
  });

  it('Ctrl-C stops pnpm start with exit status 0 and no ELIFECYCLE', async () => {
    const port = await freePort();
    const [command, ...args] = pnpm();
    // Its own process group, to which SIGINT goes as a terminal sends it on Ctrl-C: pnpm and node both get it.
    const child = spawn(command!, [...args, 'start'], {
      cwd: ROOT,
      env: { ...env, SITES: 'example.com', HOST: '127.0.0.1', PORT: String(port) },
      stdio: 'pipe',
      detached: true,
    });
    const done = exited(child);
    const health = await waitFor(
      () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0),
      (status) => status === 200 || child.exitCode !== null,
      { intervalMs: 250 },
    );
    expect(health).toBe(200);
    process.kill(-child.pid!, 'SIGINT');
    const result = await done;
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain('ELIFECYCLE');
  });
});

describe('the build check', () => {
  const root = mkdtempSync(join(tmpdir(), 'rta-build-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const file = (path: string, text = '') => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const age = (path: string, ms: number) => utimesSync(join(root, path), new Date(ms), new Date(ms));

  it('builds when nothing was built, a dist/ is missing, or a source or manifest is newer than the last build', () => {
    const t0 = Date.now() - 3_600_000;
    file('tsconfig.base.json', '{}');
    file('app/tsconfig.json', JSON.stringify({ references: [{ path: '../lib' }] }));
    file('lib/tsconfig.json', '{}');
    for (const dir of ['app', 'lib']) {
      file(`${dir}/package.json`, '{}');
      file(`${dir}/src/index.ts`);
      file(`${dir}/src/lua/script.lua`);
      file(`${dir}/dist/index.js`);
    }
    for (const path of ['tsconfig.base.json', 'app/tsconfig.json', 'lib/tsconfig.json', 'app/package.json', 'lib/package.json', 'app/src/index.ts', 'lib/src/index.ts', 'app/src/lua/script.lua', 'lib/src/lua/script.lua']) {
      age(path, t0);
    }
    const dirs = projects('app', root);
    expect(dirs).toEqual(['app', 'lib']);
    expect(staleReason(dirs, root)).toBe('no build yet');
    stampBuild(t0 + 1_000, root);
    expect(staleReason(dirs, root)).toBeUndefined();

    age('lib/src/lua/script.lua', t0 + 2_000); // not TypeScript, but copied beside the compiled code
    expect(staleReason(dirs, root)).toBe('lib changed');
    stampBuild(t0 + 3_000, root);
    age('app/package.json', t0 + 4_000);
    expect(staleReason(dirs, root)).toBe('app changed');
    stampBuild(t0 + 5_000, root);
    rmSync(join(root, 'lib/dist/index.js'));
    expect(staleReason(dirs, root)).toBe('lib/dist is missing');
  });
});
