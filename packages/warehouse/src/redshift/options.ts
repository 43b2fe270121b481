import type { LoadHooks } from '../warehouse.js';
import { WarehouseError } from '../errors.js';
import { resolveTimeouts, type ResolvedTimeouts, type WarehouseTimeouts } from '../timeouts.js';

/**
 * Where and how to reach Redshift through the Data API. The comments name the environment
 * variable the config package maps to each option; this library never reads the environment itself.
 *
 * Authentication, as the Data API accepts it:
 * - provisioned cluster: `clusterIdentifier` plus either `secretArn` (Secrets Manager) or
 *   `dbUser` (temporary credentials through redshift:GetClusterCredentials);
 * - Serverless workgroup: `workgroupName` plus `secretArn`, or nothing (IAM identity through
 *   redshift-serverless:GetCredentials).
 */
export interface RedshiftWarehouseOptions extends WarehouseTimeouts {
  /** Provisioned cluster id (REDSHIFT_CLUSTER_ID). Exactly one of this and `workgroupName`. */
  clusterIdentifier?: string;
  /** Serverless workgroup (REDSHIFT_WORKGROUP). Exactly one of this and `clusterIdentifier`. */
  workgroupName?: string;
  /** Database name (REDSHIFT_DATABASE). */
  database: string;
  /** Secrets Manager secret with the database credentials (REDSHIFT_SECRET_ARN). */
  secretArn?: string;
  /** Database user for temporary cluster credentials (REDSHIFT_DB_USER); cluster only. */
  dbUser?: string;
  /** AWS region of the cluster or workgroup (AWS_REGION). */
  region: string;
  /** Data API endpoint override, e.g. a local test server (REDSHIFT_DATA_ENDPOINT). */
  endpoint?: string;
  /** Static credentials, for tests only; otherwise the default AWS provider chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** First DescribeStatement poll delay, milliseconds; grows 1.5x per poll up to 2,000. Default 100. */
  pollIntervalMs?: number;
  /** Tries per Data API call on throttling, 5xx and network errors (backoff 100 ms doubling, max 2 s). Default 5. */
  maxAttempts?: number;
  /** Rows (counters plus visitors) per BatchExecuteStatement call. Default 20,000. */
  maxRowsPerCall?: number;
  /** UTF-8 bytes per SQL statement; the Data API rejects more than 102,400. Default 90,000. */
  maxStatementBytes?: number;
  hooks?: LoadHooks;
}

/** Every default in one place, grouped by concern. */
export const redshiftDefaults = {
  polling: { pollIntervalMs: 100, maxPollIntervalMs: 2_000 },
  /**
   * Data API calls on throttling, 5xx and network errors; loads also on error 1023
   * (serializable isolation violation), with `serializableBackoffMs` doubling.
   */
  retries: { maxAttempts: 5, baseBackoffMs: 100, maxBackoffMs: 2_000, serializableBackoffMs: 500 },
  /** Longest single HTTP request to the Data API, milliseconds (each is also bounded by the statement's deadline). */
  http: { requestTimeoutMs: 30_000 },
  chunking: { maxRowsPerCall: 20_000, maxStatementBytes: 90_000, maxStatementsPerCall: 40 },
} as const;

/** Options after validation, with defaults applied. */
export interface ResolvedRedshiftOptions extends Omit<RedshiftWarehouseOptions, keyof WarehouseTimeouts>, ResolvedTimeouts {
  pollIntervalMs: number;
  maxAttempts: number;
  maxRowsPerCall: number;
  maxStatementBytes: number;
}

const CLUSTER_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Throws WAREHOUSE_CONFIG naming the option (and its variable) that fixes the problem. */
export function resolveRedshiftOptions(options: RedshiftWarehouseOptions): ResolvedRedshiftOptions {
  const fail = (message: string): never => {
    throw new WarehouseError('WAREHOUSE_CONFIG', `Redshift: ${message}`);
  };
  const { clusterIdentifier, workgroupName, secretArn, dbUser } = options;
  if (clusterIdentifier && workgroupName) {
    fail('set only one of REDSHIFT_CLUSTER_ID (clusterIdentifier) and REDSHIFT_WORKGROUP (workgroupName)');
  }
  if (!clusterIdentifier && !workgroupName) {
    fail('set REDSHIFT_CLUSTER_ID (clusterIdentifier) for a cluster or REDSHIFT_WORKGROUP (workgroupName) for Serverless');
  }
  if (clusterIdentifier !== undefined && (clusterIdentifier.length > 63 || !CLUSTER_ID.test(clusterIdentifier))) {
    fail(`REDSHIFT_CLUSTER_ID (clusterIdentifier) ${JSON.stringify(clusterIdentifier)} is not a cluster id (lowercase letters, digits, single hyphens, at most 63)`);
  }
  if (workgroupName !== undefined && (workgroupName.length < 3 || workgroupName.length > 128)) {
    fail(`REDSHIFT_WORKGROUP (workgroupName) must be 3 to 128 characters`);
  }
  if (secretArn && dbUser) fail('set only one of REDSHIFT_SECRET_ARN (secretArn) and REDSHIFT_DB_USER (dbUser)');
  if (clusterIdentifier && !secretArn && !dbUser) {
    fail('a cluster needs REDSHIFT_SECRET_ARN (secretArn) or REDSHIFT_DB_USER (dbUser)');
  }
  if (workgroupName && dbUser) {
    fail('REDSHIFT_DB_USER (dbUser) applies to a cluster only; a workgroup uses IAM or REDSHIFT_SECRET_ARN (secretArn)');
  }
  if (secretArn !== undefined && !secretArn.startsWith('arn:')) fail('REDSHIFT_SECRET_ARN (secretArn) must be an ARN (arn:aws:secretsmanager:…)');
  if (!options.database) fail('REDSHIFT_DATABASE (database) is required');
  if (!options.region) fail('AWS_REGION (region) is required');
  if (options.endpoint !== undefined && !URL.canParse(options.endpoint)) {
    fail(`REDSHIFT_DATA_ENDPOINT (endpoint) ${JSON.stringify(options.endpoint)} is not a URL`);
  }
  const positive = (name: keyof RedshiftWarehouseOptions, fallback: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(`${name} must be a positive integer`);
    return value as number;
  };
  const maxStatementBytes = positive('maxStatementBytes', redshiftDefaults.chunking.maxStatementBytes);
  if (maxStatementBytes > 102_400) fail('maxStatementBytes must not exceed the Data API limit of 102,400');
  return {
    ...options,
    ...resolveTimeouts(options),
    pollIntervalMs: positive('pollIntervalMs', redshiftDefaults.polling.pollIntervalMs),
    maxAttempts: positive('maxAttempts', redshiftDefaults.retries.maxAttempts),
    maxRowsPerCall: positive('maxRowsPerCall', redshiftDefaults.chunking.maxRowsPerCall),
    maxStatementBytes,
  };
}
