import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/index.js';

describe('parseConfig', () => {
  it('applies the defaults', () => {
    const config = parseConfig({ SITES: 'Example.com, shop.example.org' });
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      port: 8080,
      sites: ['example.com', 'shop.example.org'],
      trustProxy: false,
      maxValuesPerDimension: 10_000,
      sessionIdleMinutes: 30,
      dashboardToken: undefined,
      flush: { cron: '* * * * *', graceSeconds: 5, lockSeconds: 60 },
      warehouse: { kind: 'duckdb', path: '.data/warehouse.duckdb' },
    });
  });

  it('leaves SITES optional when told to (CLI commands that count no hits)', () => {
    expect(parseConfig({}, { sitesRequired: false }).sites).toEqual([]);
    expect(() => parseConfig({ SITES: 'bad site!' }, { sitesRequired: false })).toThrow('SITES: each site must be a host name');
  });

  it.each([
    [{}, 'SITES: must list at least one site'],
    [{ SITES: 'a.com', PORT: '70000' }, 'PORT: must be a whole number from 0 to 65535'],
    [{ SITES: 'a.com', PORT: 'eighty' }, 'PORT: must be a whole number'],
    [{ SITES: 'bad site!' }, 'SITES: each site must be a host name'],
    [{ SITES: 'a.com', REDIS_URL: 'http://x' }, 'REDIS_URL: must be a redis:// or rediss:// URL'],
    [{ SITES: 'a.com', WAREHOUSE: 'oracle' }, 'WAREHOUSE: must be one of duckdb, postgres, redshift, snowflake'],
    [{ SITES: 'a.com', WAREHOUSE: 'postgres' }, 'DATABASE_URL: must be a postgres:// URL when WAREHOUSE=postgres'],
    [{ SITES: 'a.com', FLUSH_CRON: '61 * * * *' }, 'FLUSH_CRON: must be a cron pattern'],
    [{ SITES: 'a.com', FLUSH_GRACE_SECONDS: '-1' }, 'FLUSH_GRACE_SECONDS: must be a whole number'],
    [{ SITES: 'a.com', MAX_VALUES_PER_DIMENSION: '0' }, 'MAX_VALUES_PER_DIMENSION: must be a whole number from 1'],
    [{ SITES: 'a.com', TRUST_PROXY: 'maybe' }, 'TRUST_PROXY: must be true or false'],
    [{ SITES: 'a.com', LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of'],
    [{ SITES: 'a.com', SESSION_IDLE_MINUTES: '0' }, 'SESSION_IDLE_MINUTES: must be a whole number from 1 to 1440'],
    [{ SITES: 'a.com', DASHBOARD_TOKEN: 'short' }, 'DASHBOARD_TOKEN: must be 16 to 256 characters'],
    [{ SITES: 'a.com', DASHBOARD_TOKEN: 'has a space in the middle' }, 'DASHBOARD_TOKEN: must not contain spaces'],
  ])('%j fails naming the variable', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('reads postgres settings and booleans', () => {
    const config = parseConfig({ SITES: 'a.com', WAREHOUSE: 'postgres', DATABASE_URL: 'postgres://u:secret@h/db', TRUST_PROXY: 'yes' });
    expect(config.warehouse).toEqual({ kind: 'postgres', connectionString: 'postgres://u:secret@h/db', schema: 'public' });
    expect(config.trustProxy).toBe(true);
  });

  it('reads the dashboard token and the session idle time', () => {
    const config = parseConfig({ SITES: 'a.com', DASHBOARD_TOKEN: 'a-long-enough-token-123', SESSION_IDLE_MINUTES: '15' });
    expect(config).toMatchObject({ dashboardToken: 'a-long-enough-token-123', sessionIdleMinutes: 15 });
  });
});
