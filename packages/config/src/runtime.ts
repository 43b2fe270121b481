import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { RedisClient } from '@rta/redis-store';
import type { AppConfig } from './config.js';
import { LogLimiter } from './log-limiter.js';

/** Structured logs on stdout; known secret-bearing fields are censored wherever they appear. */
export function createLogger(level: AppConfig['logLevel'], name: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['password', '*.password', 'secret', '*.secret', 'connectionString', '*.connectionString', 'privateKey', '*.privateKey', 'token', '*.token'],
      censor: '***',
    },
  });
}

export type RedisRole = 'tracker' | 'flusher' | 'bullmq' | 'cli';

/** What createRedis needs of the configuration. */
export type RedisConnectionConfig = Pick<AppConfig, 'redisUrl' | 'redisCluster'>;

/**
 * Options per role, for one node (standalone, or every node of a cluster). The tracker fails
 * fast instead of queueing while disconnected (a request then gets 503, never a late write to
 * an old minute); BullMQ needs `maxRetriesPerRequest: null`; the CLI tries once.
 */
const NODE_OPTIONS: Record<RedisRole, RedisOptions> = {
  tracker: { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, commandTimeout: 5_000 },
  flusher: { maxRetriesPerRequest: 3, commandTimeout: 60_000 },
  bullmq: { maxRetriesPerRequest: null },
  cli: { maxRetriesPerRequest: 1, retryStrategy: () => null, commandTimeout: 60_000 },
};

/**
 * Options per role for a Redis Cluster client. Redirections (MOVED, ASK, TRYAGAIN while a slot
 * migrates, CLUSTERDOWN and a closed connection during a failover) are retried by ioredis; the
 * track script is safe to repeat (its call marker), the others are reads or idempotent.
 */
const CLUSTER_OPTIONS: Record<RedisRole, ClusterOptions> = {
  tracker: { enableOfflineQueue: false, enableAutoPipelining: true },
  flusher: {},
  bullmq: {},
  cli: { clusterRetryStrategy: () => null },
};

/** The seed URLs of REDIS_URL (one without REDIS_CLUSTER). */
export function redisSeeds(config: RedisConnectionConfig): URL[] {
  return config.redisUrl.split(',').map((url) => new URL(url.trim()));
}

/** Credentials, TLS and database of a URL, as node options. */
function urlOptions(url: URL): RedisOptions {
  return {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
  };
}

/**
 * A Redis client for a role: an ioredis `Cluster` when REDIS_CLUSTER is on (the seeds' user,
 * password and TLS apply to every node), else a `Redis`. Every error event the client emits
 * becomes a JSON log line (at most one per message and interval, see LogLimiter), never ioredis'
 * own stack trace.
 */
export function createRedis(config: RedisConnectionConfig, role: RedisRole, logger?: Logger, extra: RedisOptions = {}): RedisClient {
  const seeds = redisSeeds(config);
  const node: RedisOptions = { connectionName: `rta-${role}`, ...NODE_OPTIONS[role], ...urlOptions(seeds[0]!), ...extra };
  let client: RedisClient;
  if (config.redisCluster) {
    const { enableOfflineQueue, retryStrategy: _, ...redisOptions } = node;
    client = new Cluster(
      seeds.map((url) => ({ host: url.hostname, port: Number(url.port || 6379) })),
      {
        lazyConnect: true,
        enableOfflineQueue,
        // ioredis 6 no longer refreshes its slot map on a timer: a map left stale by a failover
        // (a redirection it could not follow, see WriteBatcher) heals within this interval.
        slotsRefreshInterval: 5_000,
        redisOptions,
        // TLS endpoints (ElastiCache) are verified by the name the client connected to.
        dnsLookup: seeds[0]!.protocol === 'rediss:' ? (address, callback) => callback(null, address) : undefined,
        ...CLUSTER_OPTIONS[role],
      },
    );
  } else {
    client = new Redis(seeds[0]!.toString(), { lazyConnect: true, enableAutoPipelining: role === 'tracker', ...node });
  }
  if (logger) {
    const limiter = new LogLimiter(logger);
    client.on('error', (error: Error & { code?: string }) => limiter.warn({ role, err: { message: error.message, code: error.code } }, `redis connection error: ${error.message}`));
  } else {
    client.on('error', () => undefined); // no logger (tests, probes): the caller sees failures through its commands
  }
  return client;
}

/**
 * Connects with a bounded wait. Checks first that REDIS_CLUSTER matches the server (one
 * node's `cluster_enabled`), so a standalone client pointed at a cluster node, or a cluster
 * client pointed at a standalone Redis, stops here with one line naming REDIS_CLUSTER. Errors
 * name REDIS_URL and the address with the real cause, never a password.
 */
export async function connectRedis(redis: RedisClient, config: RedisConnectionConfig, timeoutMs = 5_000): Promise<void> {
  const seed = redisSeeds(config)[0]!;
  const where = `${seed.hostname}:${seed.port || 6379}`;
  const clusterEnabled = await probeClusterEnabled(seed, where, timeoutMs);
  if (clusterEnabled && !config.redisCluster) {
    throw new Error(`REDIS_CLUSTER: ${where} is a Redis Cluster node (cluster_enabled:1); set REDIS_CLUSTER=true and give the cluster's nodes in REDIS_URL`);
  }
  if (!clusterEnabled && config.redisCluster) {
    throw new Error(`REDIS_CLUSTER: ${where} is not a Redis Cluster node (cluster_enabled:0); unset REDIS_CLUSTER for a single Redis`);
  }
  let lastError: Error | undefined;
  const remember = (error: Error) => (lastError = error);
  redis.on('error', remember);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    const cause = lastError ?? (error as Error);
    throw new Error(`REDIS_URL: cannot reach Redis${config.redisCluster ? ' Cluster' : ''} at ${where} (${cause.message})`, { cause });
  } finally {
    clearTimeout(timer);
    redis.off('error', remember);
  }
}

/** `cluster_enabled` of the node at `seed`, with a plain connection of its own. */
async function probeClusterEnabled(seed: URL, where: string, timeoutMs: number): Promise<boolean> {
  const probe = new Redis({
    host: seed.hostname,
    port: Number(seed.port || 6379),
    ...urlOptions(seed),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  let lastError: Error | undefined;
  probe.on('error', (error: Error) => (lastError = error));
  try {
    await probe.connect();
    return /cluster_enabled:1/.test(await probe.info('cluster'));
  } catch (error) {
    const cause = lastError ?? (error as Error);
    throw new Error(`REDIS_URL: cannot reach Redis at ${where} (${cause.message})`, { cause });
  } finally {
    probe.disconnect();
  }
}
