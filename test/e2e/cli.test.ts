import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, spawnCli } from '../support/child.js';
import { randomPrefix } from '../support/redis.js';

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
