import { availableParallelism } from 'node:os';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import type { RedshiftWarehouseOptions, SnowflakeWarehouseOptions, WarehouseTimeouts } from '@rta/warehouse';
// Sites become part of Redis key names: the key module says which names are safe.
import { SITE_NAME } from '@rta/redis-store';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js';
import { parseGoals } from './goals.js';

/**
 * Every environment variable, its default and what it means. `.env.example` and the README
 * list the same; `parseConfig` is the only reader of the environment.
 */
export const configDefaults = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_CLUSTER: 'false',
  REDIS_PREFIX: 'rta',
  REDIS_WAIT_REPLICAS: '0',
  REDIS_WAIT_TIMEOUT_MS: '1000',
  HOST: '0.0.0.0',
  PORT: '8080',
  SITES: '',
  WAREHOUSE: 'duckdb',
  DUCKDB_PATH: '.data/warehouse.duckdb',
  DATABASE_URL: '',
  DATABASE_SCHEMA: 'public',
  FLUSH_CRON: '* * * * *',
  FLUSH_GRACE_SECONDS: '5',
  FLUSH_LOCK_SECONDS: '60',
  FLUSH_CLAIM_REPLICAS: 'auto',
  FLUSH_JOB_TIMEOUT_SECONDS: '600',
  FLUSHER_METRICS_PORT: '9464',
  WAREHOUSE_CONNECT_TIMEOUT_SECONDS: '10',
  WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: '120',
  WAREHOUSE_IDLE_TIMEOUT_SECONDS: '300',
  SNOWFLAKE_MAX_BIND_BYTES: '1000000',
  MAX_VALUES_PER_DIMENSION: '10000',
  SESSION_IDLE_MINUTES: '30',
  SESSION_CAP: '500000',
  TRACKER_WORKERS: '',
  DASHBOARD_TOKEN: '',
  METRICS_PORT: '',
  METRICS_TOKEN: '',
  TRUST_PROXY: 'false',
  GEOIP_DATABASE: '',
  GOALS: '',
  LOG_LEVEL: 'info',
} as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}


const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`);

/** A token given in the environment: 16-256 characters without spaces, or empty (`unset` says what that means). */
const boolean = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', ''].includes(s), 'must be true or false')
  .transform((s) => ['1', 'true', 'yes', 'on'].includes(s));

const secretToken = (unset: string) =>
  z
    .string()
    .refine((s) => s === '' || (s.length >= 16 && s.length <= 256), `must be 16 to 256 characters (or unset to ${unset})`)
    .refine((s) => !/[\s\u0000-\u001f\u007f]/.test(s), 'must not contain spaces or control characters');

/** One URL, or with REDIS_CLUSTER comma-separated seed URLs; checked again in parseConfig. */
const redisUrls = z
  .string()
  .transform((s) => s.split(',').map((url) => url.trim()).filter(Boolean))
  .refine((urls) => urls.length > 0 && urls.every(isRedisUrl), 'must be a redis:// or rediss:// URL (with REDIS_CLUSTER=true, one or more, comma-separated)');

function isRedisUrl(text: string): boolean {
  try {
    return ['redis:', 'rediss:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** A variable read by a parser of its own, whose error message becomes the variable's. */
const parsedBy = <T>(parse: (text: string) => T) =>
  z.string().transform((s, ctx) => {
    try {
      return parse(s);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

const schema = z.object({
  REDIS_URL: redisUrls,
  REDIS_CLUSTER: boolean,
  REDIS_WAIT_REPLICAS: integer(0, 16),
  REDIS_WAIT_TIMEOUT_MS: integer(1, 60_000),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -'),
  HOST: z.string().min(1, 'must not be empty'),
  PORT: integer(0, 65_535),
  SITES: z
    .string()
    .transform((s) => s.split(',').map((site) => site.trim().toLowerCase()).filter(Boolean))
    .refine((sites) => sites.every((site) => SITE_NAME.test(site)), 'each site must be a host name such as example.com'),
  WAREHOUSE: z.enum(['duckdb', 'postgres', 'redshift', 'snowflake'], {
    message: 'must be one of duckdb, postgres, redshift, snowflake',
  }),
  DUCKDB_PATH: z.string().min(1, 'must not be empty'),
  DATABASE_URL: z.string(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier'),
  FLUSH_CRON: z.string().refine((s) => {
    try {
      CronExpressionParser.parse(s);
      return true;
    } catch {
      return false;
    }
  }, 'must be a cron pattern such as "* * * * *" (or with seconds first, "*/5 * * * * *")'),
  FLUSH_GRACE_SECONDS: integer(0, 3_600),
  FLUSH_LOCK_SECONDS: integer(5, 3_600),
  FLUSH_CLAIM_REPLICAS: z
    .string()
    .regex(/^(auto|\d{1,2})$/, 'must be auto or a whole number of replicas from 0 to 16')
    .transform((s) => (s === 'auto' ? ('auto' as const) : Number(s)))
    .refine((n) => n === 'auto' || n <= 16, 'must be auto or a whole number of replicas from 0 to 16'),
  FLUSH_JOB_TIMEOUT_SECONDS: integer(10, 86_400),
  FLUSHER_METRICS_PORT: integer(0, 65_535),
  WAREHOUSE_CONNECT_TIMEOUT_SECONDS: integer(1, 600),
  WAREHOUSE_STATEMENT_TIMEOUT_SECONDS: integer(1, 86_400),
  WAREHOUSE_IDLE_TIMEOUT_SECONDS: integer(1, 86_400),
  SNOWFLAKE_MAX_BIND_BYTES: integer(100_000, 16_000_000),
  MAX_VALUES_PER_DIMENSION: integer(1, 1_000_000),
  SESSION_IDLE_MINUTES: integer(1, 1_440),
  SESSION_CAP: integer(1, 100_000_000),
  TRACKER_WORKERS: z
    .string()
    .regex(/^\d*$/, 'must be a whole number of processes from 1 to 64 (or unset for one per core)')
    .transform((s) => (s === '' ? availableParallelism() : Number(s)))
    .refine((n) => n >= 1 && n <= 64, 'must be a whole number of processes from 1 to 64 (or unset for one per core)'),
  DASHBOARD_TOKEN: secretToken('lock the dashboard'),
  METRICS_PORT: z
    .string()
    .regex(/^\d*$/, 'must be a whole number from 0 to 65535 (or unset to serve /metrics on PORT)')
    .transform((s) => (s === '' ? undefined : Number(s)))
    .refine((n) => n === undefined || n <= 65_535, 'must be a whole number from 0 to 65535 (or unset to serve /metrics on PORT)'),
  METRICS_TOKEN: secretToken('leave /metrics open'),
  TRUST_PROXY: parsedBy(parseTrustProxy),
  GEOIP_DATABASE: z.string().transform((s) => s.trim()),
  GOALS: parsedBy(parseGoals),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }),
});

/** Every variant carries the three timeouts (WAREHOUSE_*_TIMEOUT_SECONDS), in milliseconds. */
export type WarehouseConfig =
  | ({ kind: 'duckdb'; path: string } & Required<WarehouseTimeouts>)
  | ({ kind: 'postgres'; connectionString: string; schema: string } & Required<WarehouseTimeouts>)
  | ({ kind: 'redshift' } & RedshiftWarehouseOptions & Required<WarehouseTimeouts>)
  | ({ kind: 'snowflake' } & SnowflakeWarehouseOptions & Required<WarehouseTimeouts>);

export interface AppConfig {
  /** REDIS_URL as given: one URL, or with `redisCluster` the cluster's seed URLs, comma-separated. */
  redisUrl: string;
  /** Connect as a Redis Cluster client (ioredis Cluster) to the seeds of `redisUrl`. */
  redisCluster: boolean;
  redisPrefix: string;
  /** Replicas that must have a hit's writes before the tracker answers it (WAIT). */
  redisWaitReplicas: number;
  /** How long that WAIT may take, ms. */
  redisWaitTimeoutMs: number;
  host: string;
  port: number;
  sites: string[];
  /** Proxies trusted to report the client address in `X-Forwarded-For`; 0 = none. */
  trustProxy: TrustProxy;
  /** A `.mmdb` file to read countries (and regions and cities) from; undefined: the bundled country database. */
  geoDatabase: string | undefined;
  /** Goals of the dashboard and the `goals` queries: custom event names and page paths (`/…`). */
  goals: string[];
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  maxValuesPerDimension: number;
  /** A visit ends after this many minutes without a hit. */
  sessionIdleMinutes: number;
  /** Sessions a site may create per session window before visits are estimated. */
  sessionCap: number;
  /** Tracker processes sharing `port` (node:cluster); 1 runs the tracker in the process itself. */
  trackerWorkers: number;
  /** Token of the dashboard and its APIs; undefined = dashboard locked (503). */
  dashboardToken: string | undefined;
  /** `/metrics` on its own port (undefined: on `port`) and behind its own token (undefined: open). */
  metrics: { port: number | undefined; token: string | undefined };
  flush: {
    cron: string;
    graceSeconds: number;
    lockSeconds: number;
    /** A flush job still running after this long fails and the next run takes over. */
    jobTimeoutSeconds: number;
    /** Port of the flusher's `/metrics`; 0 picks a free one (logged at start). */
    metricsPort: number;
    /** Replicas that must have a claim before it loads (FLUSH_CLAIM_REPLICAS). */
    claimReplicas: number | 'auto';
  };
  warehouse: WarehouseConfig;
}

/**
 * Parses the environment once; the first invalid variable throws a ConfigError whose message
 * is one line naming it. Empty strings count as unset. `SITES` is required unless
 * `sitesRequired` is false (CLI commands that count no hits: flush, status, query, migrate).
 */
export function parseConfig(env: Record<string, string | undefined>, options: { sitesRequired?: boolean } = {}): AppConfig {
  const input: Record<string, string> = {};
  for (const [name, fallback] of Object.entries(configDefaults)) {
    const value = env[name];
    input[name] = value === undefined || value === '' ? fallback : value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(String(issue.path[0]), issue.message);
  }
  const c = result.data;
  if (c.REDIS_URL.length > 1 && !c.REDIS_CLUSTER) {
    throw new ConfigError('REDIS_URL', 'holds several URLs; set REDIS_CLUSTER=true to use them as the seeds of a Redis Cluster');
  }
  const seeds = c.REDIS_URL.map((url) => new URL(url));
  if (seeds.some((u) => u.protocol !== seeds[0]!.protocol || u.username !== seeds[0]!.username || u.password !== seeds[0]!.password)) {
    throw new ConfigError('REDIS_URL', 'the seed URLs must share one scheme, user name and password (they apply to every node)');
  }
  if (c.METRICS_PORT === c.PORT && c.PORT !== 0) throw new ConfigError('METRICS_PORT', 'must differ from PORT (unset it to serve /metrics on PORT)');
  if (c.SITES.length === 0 && (options.sitesRequired ?? true)) {
    throw new ConfigError('SITES', 'must list at least one site, comma-separated (e.g. SITES=example.com)');
  }
  const timeouts: Required<WarehouseTimeouts> = {
    connectTimeoutMs: c.WAREHOUSE_CONNECT_TIMEOUT_SECONDS * 1_000,
    statementTimeoutMs: c.WAREHOUSE_STATEMENT_TIMEOUT_SECONDS * 1_000,
    idleTimeoutMs: c.WAREHOUSE_IDLE_TIMEOUT_SECONDS * 1_000,
  };
  if (c.FLUSH_JOB_TIMEOUT_SECONDS <= c.WAREHOUSE_CONNECT_TIMEOUT_SECONDS + c.WAREHOUSE_STATEMENT_TIMEOUT_SECONDS) {
    throw new ConfigError(
      'FLUSH_JOB_TIMEOUT_SECONDS',
      'must be more than WAREHOUSE_CONNECT_TIMEOUT_SECONDS + WAREHOUSE_STATEMENT_TIMEOUT_SECONDS (a flush must outlast one load)',
    );
  }
  let warehouse: WarehouseConfig;
  switch (c.WAREHOUSE) {
    case 'duckdb':
      warehouse = { kind: 'duckdb', path: c.DUCKDB_PATH, ...timeouts };
      break;
    case 'postgres':
      if (!/^postgres(ql)?:\/\//.test(c.DATABASE_URL)) {
        throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL when WAREHOUSE=postgres');
      }
      warehouse = { kind: 'postgres', connectionString: c.DATABASE_URL, schema: c.DATABASE_SCHEMA, ...timeouts };
      break;
    case 'redshift':
      warehouse = {
        kind: 'redshift',
        clusterIdentifier: optional(env, 'REDSHIFT_CLUSTER_ID'),
        workgroupName: optional(env, 'REDSHIFT_WORKGROUP'),
        database: required(env, 'REDSHIFT_DATABASE', 'WAREHOUSE=redshift'),
        secretArn: optional(env, 'REDSHIFT_SECRET_ARN'),
        dbUser: optional(env, 'REDSHIFT_DB_USER'),
        region: required(env, 'AWS_REGION', 'WAREHOUSE=redshift'),
        endpoint: optional(env, 'REDSHIFT_DATA_ENDPOINT'),
        ...timeouts,
      };
      break;
    case 'snowflake':
      warehouse = {
        kind: 'snowflake',
        account: required(env, 'SNOWFLAKE_ACCOUNT', 'WAREHOUSE=snowflake'),
        username: required(env, 'SNOWFLAKE_USERNAME', 'WAREHOUSE=snowflake'),
        password: optional(env, 'SNOWFLAKE_PASSWORD'),
        privateKeyPath: optional(env, 'SNOWFLAKE_PRIVATE_KEY_PATH'),
        privateKeyPassphrase: optional(env, 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE'),
        warehouse: optional(env, 'SNOWFLAKE_WAREHOUSE'),
        database: required(env, 'SNOWFLAKE_DATABASE', 'WAREHOUSE=snowflake'),
        schema: required(env, 'SNOWFLAKE_SCHEMA', 'WAREHOUSE=snowflake'),
        role: optional(env, 'SNOWFLAKE_ROLE'),
        accessUrl: optional(env, 'SNOWFLAKE_ACCESS_URL'),
        maxBindBytes: c.SNOWFLAKE_MAX_BIND_BYTES,
        ...timeouts,
      };
      break;
  }
  // Redshift and Snowflake combinations (cluster or workgroup, password or key) are checked by
  // their adapters when the flusher starts, with messages naming the variable.
  return {
    redisUrl: c.REDIS_URL.join(','),
    redisCluster: c.REDIS_CLUSTER,
    redisPrefix: c.REDIS_PREFIX,
    redisWaitReplicas: c.REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: c.REDIS_WAIT_TIMEOUT_MS,
    host: c.HOST,
    port: c.PORT,
    sites: c.SITES,
    trustProxy: c.TRUST_PROXY,
    geoDatabase: c.GEOIP_DATABASE === '' ? undefined : c.GEOIP_DATABASE,
    goals: c.GOALS,
    logLevel: c.LOG_LEVEL,
    maxValuesPerDimension: c.MAX_VALUES_PER_DIMENSION,
    sessionIdleMinutes: c.SESSION_IDLE_MINUTES,
    sessionCap: c.SESSION_CAP,
    trackerWorkers: c.TRACKER_WORKERS,
    dashboardToken: c.DASHBOARD_TOKEN === '' ? undefined : c.DASHBOARD_TOKEN,
    metrics: { port: c.METRICS_PORT, token: c.METRICS_TOKEN === '' ? undefined : c.METRICS_TOKEN },
    flush: {
      cron: c.FLUSH_CRON,
      graceSeconds: c.FLUSH_GRACE_SECONDS,
      lockSeconds: c.FLUSH_LOCK_SECONDS,
      jobTimeoutSeconds: c.FLUSH_JOB_TIMEOUT_SECONDS,
      metricsPort: c.FLUSHER_METRICS_PORT,
      claimReplicas: c.FLUSH_CLAIM_REPLICAS,
    },
    warehouse,
  };
}

/**
 * The configuration of this process: the one place that reads `process.env`. A `.env` file in
 * the working directory is read into it first; a variable set in the environment wins over it.
 */
export function loadConfig(options: { sitesRequired?: boolean; envFile?: string } = {}): AppConfig {
  const envFile = options.envFile ?? '.env';
  try {
    process.loadEnvFile(envFile);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ConfigError(envFile, `cannot be read (${code ?? (error as Error).message})`);
  }
  // The AWS SDK warns on every Node.js before 22 that its releases from 2027 will need 22; the
  // README asks for Node.js 20, which the SDK this project pins supports.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return parseConfig(process.env, options);
}

/** Whether LOG_LEVEL asks for stacks and causes; read raw, since it may be the variable that failed to parse. */
export function debugOutputRequested(env: Record<string, string | undefined> = process.env): boolean {
  return ['debug', 'trace'].includes(env.LOG_LEVEL ?? '');
}

function optional(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function required(env: Record<string, string | undefined>, name: string, when: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigError(name, `must be set when ${when}`);
  return value;
}

/** The URL with its password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
