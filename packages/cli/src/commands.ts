import { dirname } from 'node:path';
import { connectRedis, createLogger, createRedis, type AppConfig } from '@rta/config';
import { AnalyticsStore } from '@rta/redis-store';
import { createWarehouseFromConfig, flushClosedMinutes, startFlusherService } from '@rta/flusher';
import { startTrackerService } from '@rta/tracker';
import { VISITOR_PERIODS, listQueries, runNamedQuery, type VisitorPeriod } from '@rta/warehouse';
import { ensureRedis } from './ensure-redis.js';
import { formatTable } from './table.js';

export const USAGE = `usage: pnpm cli <command> [options]

  start                 tracker and flusher in one process (starts a local redis-server if needed)
  tracker               the tracker only
  flusher               the flusher only
  flush [--now]         flush every closed minute now; --now also closes the current minute
  status                pending minutes and events in Redis, oldest age, Redis memory, last flush
  query <name> [--site S] [--from T] [--to T] [--limit N] [--by hour|day] [--page /path]
                        run a query of the SQL pack (times are UTC ISO-8601; default: the last 24 hours)
                        e.g. query visitors --site example.com --from 2026-03-01 --to 2026-03-08 --by day
                        (unique visitors merged over the window; without --by one number for the
                        whole range; --page counts one page instead of the whole site)
  queries               list the SQL pack
  migrate               create the warehouse tables
`;

export interface CommandFlags {
  now?: boolean;
  site?: string;
  from?: string;
  to?: string;
  limit?: string;
  /** `visitors`: one row per hour or day; default one row for the whole range. */
  by?: string;
  /** `visitors`: count one page (path) instead of the whole site. */
  page?: string;
}

export async function runCommand(command: string, args: string[], flags: CommandFlags, config: AppConfig): Promise<void> {
  switch (command) {
    case 'start':
    case 'tracker':
    case 'flusher':
      return serve(command, config);
    case 'flush':
      return flush(config, flags.now ?? false);
    case 'status':
      return status(config);
    case 'query':
      return query(config, args[0], flags);
    case 'queries':
      return print(formatTable(listQueries(config.warehouse.kind).map((q) => ({ name: q.name, params: q.params.join(', '), answers: q.answers }))));
    case 'migrate': {
      const warehouse = createWarehouseFromConfig(config.warehouse);
      try {
        await warehouse.migrate();
        print(`migrated ${warehouse.dialect}`);
      } finally {
        await warehouse.close();
      }
      return;
    }
    default:
      throw new Error(`unknown command "${command}"; run pnpm cli --help`);
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function serve(role: 'start' | 'tracker' | 'flusher', config: AppConfig): Promise<void> {
  const logger = createLogger(config.logLevel, role === 'start' ? 'pipeline' : role);
  const dataDir = config.warehouse.kind === 'duckdb' ? dirname(config.warehouse.path) : '.data';
  const redisServer = role === 'start' ? await ensureRedis(config.redisUrl, dataDir) : undefined;
  if (redisServer) logger.info({ pid: redisServer.pid, dir: `${dataDir}/redis` }, 'started redis-server with AOF');
  const services: Array<{ close(): Promise<void> }> = [];
  if (role !== 'flusher') services.push(await startTrackerService(config, logger));
  if (role !== 'tracker') services.push(await startFlusherService(config, logger));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const service of services) await service.close().catch((err: unknown) => logger.error({ err }, 'close failed'));
    redisServer?.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function withStore<T>(config: AppConfig, work: (store: AnalyticsStore) => Promise<T>): Promise<T> {
  const redis = createRedis(config.redisUrl, 'cli');
  redis.on('error', () => undefined);
  await connectRedis(redis);
  try {
    return await work(new AnalyticsStore(redis, { prefix: config.redisPrefix, maxValuesPerDimension: config.maxValuesPerDimension }));
  } finally {
    redis.disconnect();
  }
}

async function flush(config: AppConfig, includeCurrentMinute: boolean): Promise<void> {
  const warehouse = createWarehouseFromConfig(config.warehouse);
  try {
    await warehouse.migrate();
    const summary = await withStore(config, (store) =>
      flushClosedMinutes(
        { store, warehouse, logger: createLogger(config.logLevel, 'flush') },
        { includeCurrentMinute, graceSeconds: config.flush.graceSeconds, lockTtlMs: config.flush.lockSeconds * 1_000 },
      ),
    );
    print(
      `flushed ${summary.minutes} minute(s), ${summary.batches} batch(es) (${summary.alreadyLoaded} already loaded), ` +
        `${summary.counterRows} counter rows, ${summary.visitorRows} visitor rows, ${summary.events} events in ${summary.durationMs} ms` +
        (summary.skippedLocked ? `; ${summary.skippedLocked} minute(s) skipped, another flush holds them` : ''),
    );
  } finally {
    await warehouse.close();
  }
}

async function status(config: AppConfig): Promise<void> {
  await withStore(config, async (store) => {
    const buckets = await store.pendingBuckets(Number.MAX_SAFE_INTEGER);
    let events = 0;
    for (const bucket of buckets) events += await store.bucketEvents(bucket);
    const oldest = buckets.length ? Math.min(...buckets.map((b) => b.minute)) : undefined;
    const memory = /used_memory_human:(\S+)/.exec(await store.redis.info('memory'))?.[1] ?? '?';
    const last = (await store.lastFlush()) as { startedAt?: string; batches?: number; events?: number } | null;
    print(
      formatTable([
        { metric: 'pending minutes', value: new Set(buckets.map((b) => b.minute)).size },
        { metric: 'pending site-minutes', value: buckets.length },
        { metric: 'pending events', value: events },
        { metric: 'oldest pending minute', value: oldest === undefined ? '-' : new Date(oldest).toISOString() },
        { metric: 'age of oldest (s)', value: oldest === undefined ? '-' : Math.round((Date.now() - oldest) / 1_000) },
        { metric: 'redis memory', value: memory },
        { metric: 'last successful flush', value: last?.startedAt ?? 'never' },
        { metric: 'last flush batches / events', value: last ? `${last.batches} / ${last.events}` : '-' },
      ]),
    );
  });
}

async function query(config: AppConfig, name: string | undefined, flags: CommandFlags): Promise<void> {
  if (!name) throw new Error('query needs a name; pnpm cli queries lists them');
  const to = parseTime(flags.to, '--to') ?? new Date();
  const from = parseTime(flags.from, '--from') ?? new Date(to.getTime() - 24 * 3_600_000);
  const limit = flags.limit === undefined ? 10 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive whole number');
  const site = flags.site ?? config.sites[0];
  if (site === undefined) throw new Error('query needs --site (or SITES, whose first site is the default)');
  const by = parseBy(flags.by);
  if (!(from < to)) throw new Error('--from must be before --to');
  const warehouse = createWarehouseFromConfig(config.warehouse);
  try {
    print(formatTable(await runNamedQuery(warehouse, name, { site, from, to, limit, by, page: flags.page })));
  } finally {
    await warehouse.close();
  }
}

function parseBy(text: string | undefined): VisitorPeriod | undefined {
  if (text === undefined) return undefined;
  if (!(VISITOR_PERIODS as readonly string[]).includes(text)) throw new Error(`--by must be ${VISITOR_PERIODS.join(' or ')}`);
  return text as VisitorPeriod;
}

function parseTime(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/.test(text) ? `${text}${text.length === 10 ? 'T00:00' : ''}Z` : text;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`${flag} must be a UTC time such as 2026-11-27 or 2026-11-27T10:00`);
  return date;
}
