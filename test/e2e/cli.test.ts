import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, exited, spawnCli } from '../support/child.js';
import { randomPrefix } from '../support/redis.js';
import { warehouseFixtures } from '../support/warehouses.js';

// The README's "See it work" runs these in a second terminal, where SITES is not set.
describe('CLI commands that count no hits run without SITES', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rta-cli-'));
  const env = { SITES: '', REDIS_PREFIX: randomPrefix(), DUCKDB_PATH: join(dir, 'warehouse.duckdb') };
  const cli = (...args: string[]) => exited(spawnCli(args, env));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrate, status, flush and query --site work; query without a site and the tracker say what is missing', async () => {
    expect(await cli('migrate')).toMatchObject({ code: 0 });
    const status = await cli('status');
    expect(status.code).toBe(0);
    expect(status.output).toContain('pending minutes');
    expect(await cli('flush')).toMatchObject({ code: 0 });
    const query = await cli('query', 'top-pages', '--site', 'example.com');
    expect(query.code).toBe(0);
    expect(query.output.trim()).toBe('(no rows)'); // an empty warehouse, queried without error

    const noSite = await cli('query', 'top-pages');
    expect(noSite.code).toBe(1);
    expect(noSite.output.trim()).toBe('error: query needs --site (or SITES, whose first site is the default)');
    const tracker = await cli('tracker');
    expect(tracker.code).toBe(1);
    expect(tracker.output.trim()).toBe('error: SITES: must list at least one site, comma-separated (e.g. SITES=example.com)');
  });
});

describe('.env in the working directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rta-dotenv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is read by every command, and the environment wins over it', async () => {
    const fromFile = join(dir, 'file.duckdb');
    const fromEnv = join(dir, 'env.duckdb');
    // `.env.example` as the README says to start: copied, with a site and a file of its own.
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8')
      .replace(/^SITES=$/m, 'SITES=dotenv.example')
      .replace(/^DUCKDB_PATH=.*$/m, `DUCKDB_PATH=${fromFile}`)
      .replace(/^REDIS_PREFIX=.*$/m, `REDIS_PREFIX=${randomPrefix()}`);
    expect(example).toContain(`DUCKDB_PATH=${fromFile}`);
    writeFileSync(join(dir, '.env'), example);
    const run = (args: string[], env: Record<string, string> = {}) => exited(spawnCli(args, env, { cwd: dir }));

    expect(await run(['migrate'], { DUCKDB_PATH: fromEnv })).toMatchObject({ code: 0, output: 'migrated duckdb\n' });
    expect([existsSync(fromEnv), existsSync(fromFile)]).toEqual([true, false]);
    // SITES comes from the file: query needs no --site.
    expect(await run(['query', 'top-pages', '--format', 'json'], { DUCKDB_PATH: fromEnv })).toMatchObject({ code: 0, output: '[]\n' });
    expect((await run(['status'])).output).toContain('pending minutes');

    writeFileSync(join(dir, '.env'), 'SITES=dotenv.example\nPORT=eighty\n');
    expect(await run(['tracker'])).toMatchObject({ code: 1, output: 'error: PORT: must be a whole number from 0 to 65535\n' });
  });
});

describe('start-up failures', () => {
  it('a busy PORT is one line naming it, with the stack only at LOG_LEVEL=debug', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = String((busy.address() as AddressInfo).port);
    try {
      const env = { SITES: 'example.com', HOST: '127.0.0.1', PORT: port, REDIS_PREFIX: randomPrefix() };
      expect(await exited(spawnCli(['tracker'], env))).toMatchObject({
        code: 1,
        output: `error: PORT: ${port} is already in use (EADDRINUSE on 127.0.0.1:${port})\n`,
      });
      const debug = await exited(spawnCli(['tracker'], { ...env, LOG_LEVEL: 'debug' }));
      expect(debug.code).toBe(1);
      expect(debug.output).toContain(`error: PORT: ${port} is already in use`);
      expect(debug.output).toMatch(/caused by: Error: listen EADDRINUSE[^\n]*\n\s+at /);
    } finally {
      busy.close();
    }
  });

  it('a warehouse that cannot be opened or reached names its variable, with the cause', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rta-warehouse-'));
    try {
      const env = { REDIS_PREFIX: randomPrefix() };
      expect(await exited(spawnCli(['flusher'], { ...env, DUCKDB_PATH: dir }))).toMatchObject({
        code: 1,
        output: expect.stringMatching(new RegExp(`^error: DUCKDB_PATH: cannot open DuckDB file ${dir}: .*directory.*\n$`, 'i')),
      });
      const unreachable = { ...env, WAREHOUSE: 'postgres', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' };
      expect(await exited(spawnCli(['migrate'], unreachable))).toMatchObject({
        code: 1,
        output: 'error: DATABASE_URL: cannot connect to PostgreSQL: connect ECONNREFUSED 127.0.0.1:1\n',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the AWS SDK prints no NodeVersionSupportWarning on Node.js 20', async () => {
    const fixture = await warehouseFixtures.redshift!();
    try {
      const migrate = await exited(spawnCli(['migrate'], fixture.env));
      expect(migrate).toMatchObject({ code: 0, output: 'migrated redshift\n' });
      // The same command with the SDK's switch turned back off does warn on Node.js < 22: the check above can fail.
      const warned = await exited(spawnCli(['migrate'], { ...fixture.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }));
      const major = Number(process.versions.node.split('.')[0]);
      expect(warned.output.includes('NodeVersionSupportWarning')).toBe(major < 22);
    } finally {
      await fixture.stop();
    }
  });
});
