import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/index.js';

describe('parseConfig', () => {
  it('applies the defaults', () => {
    const config = parseConfig({ SITES: 'Example.com, shop.example.org' });
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      port: 8080,
      sites: ['example.com', 'shop.example.org'],
      trustProxy: 0,
      maxValuesPerDimension: 10_000,
      sessionIdleMinutes: 30,
      dashboardToken: undefined,
      metrics: { port: undefined, token: undefined },
      flush: { cron: '* * * * *', graceSeconds: 5, lockSeconds: 60, jobTimeoutSeconds: 600, metricsPort: 9464 },
      warehouse: { kind: 'duckdb', path: '.data/warehouse.duckdb', connectTimeoutMs: 10_000, statementTimeoutMs: 120_000, idleTimeoutMs: 300_000 },
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
    [{ SITES: 'a.com', TRUST_PROXY: 'maybe' }, 'TRUST_PROXY: must be false, true (one proxy), a number of proxy hops (0-32), or comma-separated proxy addresses or CIDRs; invalid IP address: maybe'],
    [{ SITES: 'a.com', TRUST_PROXY: '33' }, 'TRUST_PROXY: must be false, true (one proxy), a number of proxy hops (0-32)'],
    [{ SITES: 'a.com', TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY: must be false, true (one proxy), a number of proxy hops (0-32), or comma-separated proxy addresses or CIDRs; invalid range on address: 10.0.0.0/33'],
    [{ SITES: 'a.com', TRUST_PROXY: '10.0.0.1,,::1' }, 'TRUST_PROXY: must be false, true (one proxy), a number of proxy hops (0-32), or comma-separated proxy addresses or CIDRs; found an empty entry'],
    [{ SITES: 'a.com', TRUST_PROXY: '-1' }, 'TRUST_PROXY: must be false, true'],
    [{ SITES: 'a.com', LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of'],
    [{ SITES: 'a.com', SESSION_IDLE_MINUTES: '0' }, 'SESSION_IDLE_MINUTES: must be a whole number from 1 to 1440'],
    [{ SITES: 'a.com', DASHBOARD_TOKEN: 'short' }, 'DASHBOARD_TOKEN: must be 16 to 256 characters'],
    [{ SITES: 'a.com', DASHBOARD_TOKEN: 'has a space in the middle' }, 'DASHBOARD_TOKEN: must not contain spaces'],
    [{ SITES: 'a.com', WAREHOUSE_CONNECT_TIMEOUT_SECONDS: '0' }, 'WAREHOUSE_CONNECT_TIMEOUT_SECONDS: must be a whole number from 1 to 600'],
    [{ SITES: 'a.com', WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: '2.5' }, 'WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: must be a whole number'],
    [{ SITES: 'a.com', WAREHOUSE_IDLE_TIMEOUT_SECONDS: 'forever' }, 'WAREHOUSE_IDLE_TIMEOUT_SECONDS: must be a whole number'],
    [{ SITES: 'a.com', SNOWFLAKE_MAX_BIND_BYTES: '2000' }, 'SNOWFLAKE_MAX_BIND_BYTES: must be a whole number from 100000'],
    [{ SITES: 'a.com', FLUSHER_METRICS_PORT: '65536' }, 'FLUSHER_METRICS_PORT: must be a whole number from 0 to 65535'],
    [{ SITES: 'a.com', FLUSH_JOB_TIMEOUT_SECONDS: '100', WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: '95' }, 'FLUSH_JOB_TIMEOUT_SECONDS: must be more than'],
    [{ SITES: 'a.com', FLUSH_CRON: '*/5 * * * * * *' }, 'FLUSH_CRON: must be a cron pattern'],
    [{ SITES: 'a.com', REDIS_URL: 'redis://a:6379,redis://b:6379' }, 'REDIS_URL: holds several URLs; set REDIS_CLUSTER=true'],
    [{ SITES: 'a.com', REDIS_CLUSTER: 'true', REDIS_URL: 'redis://:x@a:6379,redis://:y@b:6379' }, 'REDIS_URL: the seed URLs must share one scheme, user name and password'],
    [{ SITES: 'a.com', REDIS_CLUSTER: 'maybe' }, 'REDIS_CLUSTER: must be true or false'],
    [{ SITES: 'a.com', REDIS_WAIT_REPLICAS: '17' }, 'REDIS_WAIT_REPLICAS: must be a whole number from 0 to 16'],
    [{ SITES: 'a.com', FLUSH_CLAIM_REPLICAS: 'some' }, 'FLUSH_CLAIM_REPLICAS: must be auto or a whole number'],
    [{ SITES: 'a.com', SESSION_CAP: '0' }, 'SESSION_CAP: must be a whole number from 1'],
    [{ SITES: 'a.com', TRACKER_WORKERS: '0' }, 'TRACKER_WORKERS: must be a whole number of processes from 1 to 64'],
    [{ SITES: 'a.com', TRACKER_WORKERS: 'two' }, 'TRACKER_WORKERS: must be a whole number of processes from 1 to 64'],
    [{ SITES: 'a.com', METRICS_TOKEN: 'short' }, 'METRICS_TOKEN: must be 16 to 256 characters (or unset to leave /metrics open)'],
    [{ SITES: 'a.com', METRICS_PORT: 'x' }, 'METRICS_PORT: must be a whole number from 0 to 65535'],
    [{ SITES: 'a.com', METRICS_PORT: '8080' }, 'METRICS_PORT: must differ from PORT'],
  ])('%j fails naming the variable', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('reads postgres settings and booleans', () => {
    const config = parseConfig({ SITES: 'a.com', WAREHOUSE: 'postgres', DATABASE_URL: 'postgres://u:secret@h/db', TRUST_PROXY: 'yes' });
    expect(config.warehouse).toMatchObject({ kind: 'postgres', connectionString: 'postgres://u:secret@h/db', schema: 'public' });
    expect(config.trustProxy).toBe(1);
  });

  it.each([
    ['false', 0],
    ['0', 0],
    ['off', 0],
    ['true', 1],
    ['1', 1],
    ['ON', 1],
    ['3', 3],
    ['10.0.0.0/8, 192.168.1.7', ['10.0.0.0/8', '192.168.1.7']],
    ['loopback,uniquelocal,linklocal', ['loopback', 'uniquelocal', 'linklocal']],
    ['fd00::/8,::ffff:10.1.2.3,2001:db8::1', ['fd00::/8', '::ffff:10.1.2.3', '2001:db8::1']],
    ['10.0.0.0/255.0.0.0', ['10.0.0.0/255.0.0.0']],
  ])('reads TRUST_PROXY=%s as %j (Express semantics: hops or proxy addresses)', (text, expected) => {
    expect(parseConfig({ SITES: 'a.com', TRUST_PROXY: text }).trustProxy).toEqual(expected);
  });

  it('reads the metrics port and token', () => {
    expect(parseConfig({ SITES: 'a.com', METRICS_PORT: '9464', METRICS_TOKEN: 'a-long-enough-metrics-token' }).metrics).toEqual({ port: 9464, token: 'a-long-enough-metrics-token' });
  });

  it('reads the warehouse timeouts in seconds, for every warehouse, and a cron with seconds', () => {
    const env = {
      SITES: 'a.com',
      WAREHOUSE_CONNECT_TIMEOUT_SECONDS: '3',
      WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: '45',
      WAREHOUSE_IDLE_TIMEOUT_SECONDS: '60',
      FLUSH_CRON: '*/5 * * * * *',
      FLUSHER_METRICS_PORT: '0',
    };
    const timeouts = { connectTimeoutMs: 3_000, statementTimeoutMs: 45_000, idleTimeoutMs: 60_000 };
    expect(parseConfig(env).warehouse).toEqual({ kind: 'duckdb', path: '.data/warehouse.duckdb', ...timeouts });
    expect(parseConfig(env).flush).toMatchObject({ cron: '*/5 * * * * *', metricsPort: 0 });
    const snowflake = parseConfig({
      ...env,
      WAREHOUSE: 'snowflake',
      SNOWFLAKE_ACCOUNT: 'a-b',
      SNOWFLAKE_USERNAME: 'u',
      SNOWFLAKE_DATABASE: 'D',
      SNOWFLAKE_SCHEMA: 'S',
      SNOWFLAKE_MAX_BIND_BYTES: '500000',
    });
    expect(snowflake.warehouse).toMatchObject({ kind: 'snowflake', maxBindBytes: 500_000, ...timeouts });
    const redshift = parseConfig({ ...env, WAREHOUSE: 'redshift', REDSHIFT_DATABASE: 'dev', AWS_REGION: 'eu-west-1' });
    expect(redshift.warehouse).toMatchObject({ kind: 'redshift', ...timeouts });
  });

  it('reads a Redis Cluster: seed URLs, WAIT replicas, claim replicas and the session cap', () => {
    const config = parseConfig({
      SITES: 'a.com',
      REDIS_CLUSTER: 'true',
      REDIS_URL: 'rediss://user:pw@node-1:6379, rediss://user:pw@node-2:6380',
      REDIS_WAIT_REPLICAS: '1',
      FLUSH_CLAIM_REPLICAS: '2',
      SESSION_CAP: '1000',
    });
    expect(config).toMatchObject({
      redisCluster: true,
      redisUrl: 'rediss://user:pw@node-1:6379,rediss://user:pw@node-2:6380',
      redisWaitReplicas: 1,
      redisWaitTimeoutMs: 1_000,
      sessionCap: 1_000,
      flush: { claimReplicas: 2 },
    });
    expect(parseConfig({ SITES: 'a.com' })).toMatchObject({ redisCluster: false, redisWaitReplicas: 0, sessionCap: 500_000, flush: { claimReplicas: 'auto' } });
    expect(parseConfig({ SITES: 'a.com' }).trackerWorkers).toBe(availableParallelism());
    expect(parseConfig({ SITES: 'a.com', TRACKER_WORKERS: '3' }).trackerWorkers).toBe(3);
  });

  it('reads the dashboard token and the session idle time', () => {
    const config = parseConfig({ SITES: 'a.com', DASHBOARD_TOKEN: 'a-long-enough-token-123', SESSION_IDLE_MINUTES: '15' });
    expect(config).toMatchObject({ dashboardToken: 'a-long-enough-token-123', sessionIdleMinutes: 15 });
  });

  it('reads GOALS: event names and page paths, trimmed, without duplicates', () => {
    expect(parseConfig({ SITES: 'a.com' }).goals).toEqual([]);
    expect(parseConfig({ SITES: 'a.com', GOALS: ' signup, /thank-you ,trial.started,signup,, /a b' }).goals).toEqual(['signup', '/thank-you', 'trial.started', '/a b']);
  });

  it.each([
    ['pageview', 'GOALS: "pageview" is every page view, not a goal'],
    ['signup,visit', 'GOALS: "visit" is counted by the pipeline'],
    ['sign up', 'GOALS: "sign up" is neither a page path (starting with /) nor an event name'],
    ['/thanks?x=1', 'GOALS: "/thanks?x=1" is not a page path'],
    ['/thanks#top', 'GOALS: "/thanks#top" is not a page path'],
    [`/${'a'.repeat(1_024)}`, 'GOALS: "/aaa'],
    ['e'.repeat(65), 'is neither a page path'],
  ])('rejects the goal %s with an error naming GOALS', (goals, message) => {
    expect(() => parseConfig({ SITES: 'a.com', GOALS: goals })).toThrow(ConfigError);
    expect(() => parseConfig({ SITES: 'a.com', GOALS: goals })).toThrow(message);
  });
});
