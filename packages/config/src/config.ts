import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import type { RedshiftWarehouseOptions, SnowflakeWarehouseOptions } from '@rta/warehouse';
// Sites become part of Redis key names: the key module says which names are safe.
import { SITE_NAME } from '@rta/redis-store';

/**
 * Every environment variable, its default and what it means. `.env.example` and the README
 * list the same; `parseConfig` is the only reader of the environment.
 */
export const configDefaults = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_PREFIX: 'rta',
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
  MAX_VALUES_PER_DIMENSION: '10000',
  SESSION_IDLE_MINUTES: '30',
  DASHBOARD_TOKEN: '',
  TRUST_PROXY: 'false',
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

const boolean = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', ''].includes(s), 'must be true or false')
  .transform((s) => ['1', 'true', 'yes', 'on'].includes(s));

const redisUrl = z.string().refine((s) => {
  try {
    return ['redis:', 'rediss:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, 'must be a redis:// or rediss:// URL');

const schema = z.object({
  REDIS_URL: redisUrl,
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
  }, 'must be a cron pattern such as "* * * * *"'),
  FLUSH_GRACE_SECONDS: integer(0, 3_600),
  FLUSH_LOCK_SECONDS: integer(5, 3_600),
  MAX_VALUES_PER_DIMENSION: integer(1, 1_000_000),
  SESSION_IDLE_MINUTES: integer(1, 1_440),
  DASHBOARD_TOKEN: z
    .string()
    .refine((s) => s === '' || (s.length >= 16 && s.length <= 256), 'must be 16 to 256 characters (or unset to lock the dashboard)')
    .refine((s) => !/[\s\u0000-\u001f\u007f]/.test(s), 'must not contain spaces or control characters'),
  TRUST_PROXY: boolean,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }),
});

export type WarehouseConfig =
  | { kind: 'duckdb'; path: string }
  | { kind: 'postgres'; connectionString: string; schema: string }
  | ({ kind: 'redshift' } & RedshiftWarehouseOptions)
  | ({ kind: 'snowflake' } & SnowflakeWarehouseOptions);

export interface AppConfig {
  redisUrl: string;
  redisPrefix: string;
  host: string;
  port: number;
  sites: string[];
  trustProxy: boolean;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  maxValuesPerDimension: number;
  /** A visit ends after this many minutes without a hit. */
  sessionIdleMinutes: number;
  /** Token of the dashboard and its APIs; undefined = dashboard locked (503). */
  dashboardToken: string | undefined;
  flush: { cron: string; graceSeconds: number; lockSeconds: number };
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
  if (c.SITES.length === 0 && (options.sitesRequired ?? true)) {
    throw new ConfigError('SITES', 'must list at least one site, comma-separated (e.g. SITES=example.com)');
  }
  let warehouse: WarehouseConfig;
  switch (c.WAREHOUSE) {
    case 'duckdb':
      warehouse = { kind: 'duckdb', path: c.DUCKDB_PATH };
      break;
    case 'postgres':
      if (!/^postgres(ql)?:\/\//.test(c.DATABASE_URL)) {
        throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL when WAREHOUSE=postgres');
      }
      warehouse = { kind: 'postgres', connectionString: c.DATABASE_URL, schema: c.DATABASE_SCHEMA };
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
      };
      break;
  }
  // Redshift and Snowflake combinations (cluster or workgroup, password or key) are checked by
  // their adapters when the flusher starts, with messages naming the variable.
  return {
    redisUrl: c.REDIS_URL,
    redisPrefix: c.REDIS_PREFIX,
    host: c.HOST,
    port: c.PORT,
    sites: c.SITES,
    trustProxy: c.TRUST_PROXY,
    logLevel: c.LOG_LEVEL,
    maxValuesPerDimension: c.MAX_VALUES_PER_DIMENSION,
    sessionIdleMinutes: c.SESSION_IDLE_MINUTES,
    dashboardToken: c.DASHBOARD_TOKEN === '' ? undefined : c.DASHBOARD_TOKEN,
    flush: { cron: c.FLUSH_CRON, graceSeconds: c.FLUSH_GRACE_SECONDS, lockSeconds: c.FLUSH_LOCK_SECONDS },
    warehouse,
  };
}

/** The configuration of this process: the one place that reads `process.env`. */
export function loadConfig(options: { sitesRequired?: boolean } = {}): AppConfig {
  return parseConfig(process.env, options);
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
