import { existsSync } from 'node:fs';
import type { ConnectionOptions } from 'snowflake-sdk';
import type { LoadHooks } from '../warehouse.js';
import { WarehouseError } from '../errors.js';
import { resolveTimeouts, type ResolvedTimeouts, type WarehouseTimeouts } from '../timeouts.js';

/**
 * Options of the Snowflake adapter. The comment after each connection option names the
 * environment variable the config package maps to it; an error about an option names that
 * variable. Exactly one of `password` and `privateKeyPath` is required.
 */
export interface SnowflakeWarehouseOptions extends WarehouseTimeouts {
  /** Account identifier, e.g. `myorg-myaccount`. SNOWFLAKE_ACCOUNT. */
  account: string;
  /** SNOWFLAKE_USERNAME. */
  username: string;
  /** Password login. SNOWFLAKE_PASSWORD. */
  password?: string;
  /** PEM private key file for key-pair (JWT) login. SNOWFLAKE_PRIVATE_KEY_PATH. */
  privateKeyPath?: string;
  /** Passphrase of an encrypted private key. SNOWFLAKE_PRIVATE_KEY_PASSPHRASE. */
  privateKeyPassphrase?: string;
  /** Virtual warehouse; the user's default when omitted. SNOWFLAKE_WAREHOUSE. */
  warehouse?: string;
  /** SNOWFLAKE_DATABASE. */
  database: string;
  /** Schema holding the tables; must exist. SNOWFLAKE_SCHEMA. */
  schema: string;
  /** Role; the user's default when omitted. SNOWFLAKE_ROLE. */
  role?: string;
  /**
   * Full endpoint, e.g. a private-link URL or a test server `http://127.0.0.1:8085`. Default
   * `https://<account>.snowflakecomputing.com`. SNOWFLAKE_ACCESS_URL.
   */
  accessUrl?: string;
  hooks?: LoadHooks;
  /** Rows per array-bind round trip into the staging tables. Default 10,000. */
  chunkRows?: number;
  /**
   * Bytes of SQL text and bound values (as the driver encodes them) per request; Snowflake
   * recommends at most 1 MB per statement, binds and batches included. SNOWFLAKE_MAX_BIND_BYTES.
   * Default 1,000,000.
   */
  maxBindBytes?: number;
  /** Attempts of a load or query when the failure is transient (network, expired session). Default 3. */
  maxAttempts?: number;
  /** First pause between attempts, doubled each time, ms. Default 250. */
  retryBackoffMs?: number;
  /** Driver timeout for one HTTP request, ms; never more than `statementTimeoutMs`. Default 60,000. */
  requestTimeoutMs?: number;
  /** Login retries inside the driver. Default 2. */
  loginRetries?: number;
  /** How long a statement waits for a lock held by another session (Snowflake LOCK_TIMEOUT), seconds. Default 60. */
  lockTimeoutSeconds?: number;
  /**
   * The driver's own log level. Default `OFF`: by default the driver logs at INFO to the console
   * and to `./snowflake.log`. The level is process-wide (the last adapter created sets it).
   */
  driverLogLevel?: 'OFF' | 'ERROR' | 'WARN' | 'INFO';
  /** Where driver log lines go when `driverLogLevel` is not OFF; the password is masked again. Default stderr. */
  driverLogger?: (level: string, message: string) => void;
}

export const snowflakeDefaults = {
  chunkRows: 10_000,
  maxBindBytes: 1_000_000,
  maxAttempts: 3,
  retryBackoffMs: 250,
  requestTimeoutMs: 60_000,
  loginRetries: 2,
  lockTimeoutSeconds: 60,
  driverLogLevel: 'OFF',
} as const;

export type ResolvedSnowflakeOptions = Omit<SnowflakeWarehouseOptions, keyof WarehouseTimeouts> &
  Required<Pick<SnowflakeWarehouseOptions, keyof typeof snowflakeDefaults>> &
  ResolvedTimeouts;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$|^"[^"]+"$/;

function configError(message: string): WarehouseError {
  return new WarehouseError('WAREHOUSE_CONFIG', message);
}

/** Checks the options; every message names the variable to fix and never contains a secret. */
export function resolveSnowflakeOptions(options: SnowflakeWarehouseOptions): ResolvedSnowflakeOptions {
  const resolved = { ...snowflakeDefaults, ...stripUndefined(options), ...resolveTimeouts(options) } as ResolvedSnowflakeOptions;
  const required: Array<[keyof SnowflakeWarehouseOptions, string]> = [
    ['account', 'SNOWFLAKE_ACCOUNT'],
    ['username', 'SNOWFLAKE_USERNAME'],
    ['database', 'SNOWFLAKE_DATABASE'],
    ['schema', 'SNOWFLAKE_SCHEMA'],
  ];
  for (const [key, env] of required) {
    const value = resolved[key];
    if (typeof value !== 'string' || value.trim() === '') throw configError(`${env} is required for WAREHOUSE=snowflake`);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(resolved.account)) {
    throw configError('SNOWFLAKE_ACCOUNT must be an account identifier such as myorg-myaccount (letters, digits, _ . -)');
  }
  const identifiers: Array<[keyof SnowflakeWarehouseOptions, string]> = [
    ['database', 'SNOWFLAKE_DATABASE'],
    ['schema', 'SNOWFLAKE_SCHEMA'],
    ['warehouse', 'SNOWFLAKE_WAREHOUSE'],
    ['role', 'SNOWFLAKE_ROLE'],
  ];
  for (const [key, env] of identifiers) {
    const value = resolved[key];
    if (value !== undefined && !IDENTIFIER.test(String(value))) {
      throw configError(`${env} must be a Snowflake identifier (letters, digits, _ and $, or a "quoted" name)`);
    }
  }
  const hasPassword = typeof resolved.password === 'string' && resolved.password !== '';
  const hasKey = typeof resolved.privateKeyPath === 'string' && resolved.privateKeyPath !== '';
  if (hasPassword === hasKey) {
    throw configError('set exactly one of SNOWFLAKE_PASSWORD and SNOWFLAKE_PRIVATE_KEY_PATH');
  }
  if (hasKey && !existsSync(resolved.privateKeyPath!)) {
    throw configError(`SNOWFLAKE_PRIVATE_KEY_PATH points to no file: ${resolved.privateKeyPath}`);
  }
  if (resolved.accessUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(resolved.accessUrl);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname.length > 1 || url.username || url.password) {
      throw configError('SNOWFLAKE_ACCESS_URL must be an http(s) URL with no path or credentials, e.g. https://myorg-myaccount.snowflakecomputing.com');
    }
  }
  const positive: Array<keyof typeof snowflakeDefaults> = [
    'chunkRows',
    'maxBindBytes',
    'maxAttempts',
    'retryBackoffMs',
    'requestTimeoutMs',
    'lockTimeoutSeconds',
  ];
  for (const key of positive) {
    const value = resolved[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < (key === 'retryBackoffMs' ? 0 : 1)) {
      throw configError(`Snowflake option ${key} must be a positive integer`);
    }
  }
  if (resolved.maxBindBytes < 100_000) throw configError('SNOWFLAKE_MAX_BIND_BYTES (maxBindBytes) must be at least 100,000 (a dense sketch row takes about 40,000)');
  return resolved;
}

/** The driver's connection options. Secrets go to the driver and nowhere else. */
export function driverConnectionOptions(options: ResolvedSnowflakeOptions): ConnectionOptions {
  const auth: ConnectionOptions = options.privateKeyPath
    ? {
        authenticator: 'SNOWFLAKE_JWT',
        privateKeyPath: options.privateKeyPath,
        ...(options.privateKeyPassphrase ? { privateKeyPass: options.privateKeyPassphrase } : {}),
      }
    : { password: options.password! };
  return stripUndefined({
    account: options.account,
    username: options.username,
    ...auth,
    accessUrl: options.accessUrl?.replace(/\/$/, ''),
    warehouse: options.warehouse,
    database: options.database,
    schema: options.schema,
    role: options.role,
    application: 'realtime-analytics',
    timeout: Math.min(options.requestTimeoutMs, options.statementTimeoutMs),
    sfRetryMaxLoginRetries: options.loginRetries,
    // Array binds above this many values would go through a temporary stage (CREATE STAGE,
    // PUT), which needs privileges the loader does not have: the adapter keeps every request
    // under maxBindBytes instead and never lets the driver stage.
    arrayBindingThreshold: Number.MAX_SAFE_INTEGER,
    // A NULL is null, not the string "NULL" (the driver's default for values fetched as strings,
    // which every number is: see SnowflakeSession.execute).
    representNullAsStringNull: false,
  }) as ConnectionOptions;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
