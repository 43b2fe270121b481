import { Redis, type RedisOptions } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { AppConfig } from './config.js';

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

/**
 * Redis clients per role. The tracker pipelines automatically and fails fast instead of
 * queueing while disconnected (a request then gets 503, never a late write to an old minute);
 * BullMQ needs `maxRetriesPerRequest: null`.
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = { connectionName: `rta-${role}`, lazyConnect: true };
  const byRole: Record<RedisRole, RedisOptions> = {
    tracker: { enableAutoPipelining: true, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, commandTimeout: 5_000 },
    flusher: { maxRetriesPerRequest: 3 },
    bullmq: { maxRetriesPerRequest: null },
    cli: { maxRetriesPerRequest: 1, retryStrategy: () => null },
  };
  return new Redis(url, { ...base, ...byRole[role], ...extra });
}

/** Connects with a bounded wait; the error names REDIS_URL and the address, never a password. */
export async function connectRedis(redis: Redis, timeoutMs = 5_000): Promise<void> {
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
    const { host, port } = redis.options;
    throw new Error(`REDIS_URL: cannot reach Redis at ${host}:${port} (${(error as Error).message})`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
