import cluster from 'node:cluster';
import { dirname } from 'node:path';
import { connectRedis, createLogger, createRedis, parseGoals, type AppConfig } from '@rta/config';
import { AnalyticsStore, type BucketRef } from '@rta/redis-store';
import type { FilterDimension, Filters, MinuteBatch, VisitorPeriod, Warehouse } from '@rta/warehouse';
import { ensureRedis } from './ensure-redis.js';
import { logProcessErrors } from './process-errors.js';
import { runTrackerWorker, startTrackerWorkers } from './tracker-workers.js';
import { FlushProgress } from './flush-progress.js';
import { OUTPUT_FORMATS, formatRows, formatTime, isOutputFormat, type OutputFormat } from '@rta/warehouse/query-output';

// The tracker, the flusher (BullMQ) and the warehouse drivers take most of a second to load:
// each command imports only what it uses, so `status` answers at once.
const flusher = () => import('@rta/flusher');
const warehouses = () => import('@rta/warehouse');

/** Every command `runCommand` knows, in the order of USAGE. */
export const COMMANDS = ['start', 'tracker', 'flusher', 'flush', 'status', 'query', 'queries', 'migrate'] as const;

export const USAGE = `usage: pnpm cli <command> [options]

  start                 tracker and flusher in one process (starts a local redis-server if needed)
  tracker               the tracker only
  flusher               the flusher only
  flush [--now]         flush every closed minute now; --now also closes the current minute
  status                pending minutes and events in Redis, oldest age, Redis memory, last flush
  query <name> [--site S] [--from T] [--to T] [--limit N] [--by hour|day] [--page /path] [--goal G]
        [--dimension D] [--filter D=VALUE]... [--format F]
                        run a query of the SQL pack (times are UTC ISO-8601; default: the last 24 hours)
                        e.g. query visitors --site example.com --from 2026-03-01 --to 2026-03-08 --by day
                        (unique visitors merged over the window; without --by one number for the
                        whole range; --page counts one page instead of the whole site)
                        goals, goal-sources, goal-pages: the site's goals (GOALS, then those added on the
                        dashboard), or --goal signup,/thank-you
                        filtered-top, filtered-traffic, filtered-visitors: page views (and their visitors)
                        matching every --filter (e.g. --filter country=DE --filter page=/pricing),
                        filtered-top per --dimension (page, referrer, device, country, browser, os,
                        utm_source, utm_medium, utm_campaign); visitors takes --filter page=/path alone
                        (as --page), the other queries no --filter
                        --format table (default), csv (for a spreadsheet) or json (one array, for jq)
  queries [--format F]  list the SQL pack
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
  /** The goal queries: goals (as GOALS: event names and page paths) instead of GOALS. */
  goal?: string;
  /** `filtered-top`: the dimension to break page views down by. */
  dimension?: string;
  /** `filtered-*`: `dimension=value`, each a filter the counted page views must match. */
  filter?: string[];
  /** `query`, `queries`: table (default), csv or json. */
  format?: string;
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
    case 'queries': {
      const format = parseFormat(flags.format);
      const { listQueries } = await warehouses();
      const rows = listQueries(config.warehouse.kind).map((q) => ({ name: q.name, params: q.params.join(', '), columns: q.columns.join(', '), answers: q.answers }));
      return print(formatRows(rows, format), format);
    }
    case 'migrate': {
      const warehouse = (await flusher()).createWarehouseFromConfig(config.warehouse);
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

/** Writes a command's output; CSV ends its own records (CRLF), the table and JSON get a newline. */
function print(text: string, format: OutputFormat = 'table'): void {
  process.stdout.write(format === 'csv' ? text : `${text}\n`);
}

async function serve(role: 'start' | 'tracker' | 'flusher', config: AppConfig): Promise<void> {
  if (cluster.isWorker) {
    // One of TRACKER_WORKERS: the tracker only; the primary runs the flusher and any redis-server.
    const logger = createLogger(config.logLevel, 'tracker');
    logProcessErrors(logger);
    return runTrackerWorker(async () => (await import('@rta/tracker')).startTrackerService(config, logger), logger);
  }
  const logger = createLogger(config.logLevel, role === 'start' ? 'pipeline' : role);
  logProcessErrors(logger);
  // Ctrl-C or SIGTERM at any time, start-up included, closes what has started and exits 0.
  const services: Array<{ close(): Promise<void> }> = [];
  let redisServer: Awaited<ReturnType<typeof ensureRedis>>;
  let starting = true;
  let signalled: string | undefined;
  const stop = async () => {
    logger.info({ signal: signalled }, 'shutting down');
    for (const service of services) await service.close().catch((err: unknown) => logger.error({ err }, 'close failed'));
    redisServer?.kill('SIGTERM');
    process.exit(0);
  };
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    if (!starting) void stop();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const dataDir = config.warehouse.kind === 'duckdb' ? dirname(config.warehouse.path) : '.data';
  redisServer = role === 'start' && !config.redisCluster ? await ensureRedis(config.redisUrl, dataDir) : undefined;
  if (redisServer) logger.info({ pid: redisServer.pid, dir: `${dataDir}/redis` }, 'started redis-server with AOF');
  try {
    if (role !== 'flusher' && !signalled) {
      services.push(config.trackerWorkers > 1 ? await startTrackerWorkers(config, logger) : await (await import('@rta/tracker')).startTrackerService(config, logger));
    }
    if (role !== 'tracker' && !signalled) services.push(await (await flusher()).startFlusherService(config, logger));
  } catch (error) {
    if (signalled) return stop(); // stopped while starting: what failed was cut short by the signal
    redisServer?.kill('SIGTERM'); // the process exits with the error; the Redis it started goes with it
    throw error;
  }
  starting = false;
  if (signalled) await stop();
}

async function withStore<T>(config: AppConfig, work: (store: AnalyticsStore) => Promise<T>, Store = AnalyticsStore): Promise<T> {
  const redis = createRedis(config, 'cli', createLogger(config.logLevel, 'cli'));
  await connectRedis(redis, config);
  try {
    return await work(new Store(redis, { prefix: config.redisPrefix, maxValuesPerDimension: config.maxValuesPerDimension }));
  } finally {
    redis.disconnect();
  }
}

async function flush(config: AppConfig, includeCurrentMinute: boolean): Promise<void> {
  const { createWarehouseFromConfig, flushClosedMinutes } = await flusher();
  const progress = new FlushProgress(process.stderr);
  const warehouse = reportingLoads(createWarehouseFromConfig(config.warehouse), progress);
  // The flush looks up the pending minutes through the store: the progress learns the total there.
  class ReportingStore extends AnalyticsStore {
    override async pendingBuckets(before: number, options?: Parameters<AnalyticsStore['pendingBuckets']>[1]): Promise<BucketRef[]> {
      const buckets = await super.pendingBuckets(before, options);
      progress.addPending(buckets.map((b) => b.minute));
      return buckets;
    }
  }
  let succeeded = false;
  try {
    await warehouse.migrate();
    const summary = await withStore(
      config,
      (store) =>
        flushClosedMinutes(
          { store, warehouse, logger: createLogger(config.logLevel, 'flush') },
          {
            includeCurrentMinute,
            graceSeconds: config.flush.graceSeconds,
            lockTtlMs: config.flush.lockSeconds * 1_000,
            claimReplicas: config.flush.claimReplicas,
            waitForLocks: true,
          },
        ),
      ReportingStore,
    );
    succeeded = true;
    progress.finish(true);
    print(
      `flushed ${summary.minutes} minute(s), ${summary.batches} batch(es) (${summary.alreadyLoaded} already loaded), ` +
        `${summary.counterRows} counter rows, ${summary.visitorRows} visitor rows, ${summary.events} events in ${summary.durationMs} ms` +
        (summary.skippedLocked ? `; ${summary.skippedLocked} minute(s) skipped, another flush held them past their lock's expiry` : '') +
        (summary.notDurable ? `; ${summary.notDurable} minute(s) left for later, their claims did not reach the replicas (FLUSH_CLAIM_REPLICAS)` : ''),
    );
  } finally {
    if (!succeeded) progress.finish(false);
    await warehouse.close();
  }
}

/** The warehouse, telling `progress` of every batch it loaded. */
function reportingLoads(warehouse: Warehouse, progress: FlushProgress): Warehouse {
  return {
    dialect: warehouse.dialect,
    migrate: () => warehouse.migrate(),
    query: (sql, params) => warehouse.query(sql, params),
    execute: (sql, params) => warehouse.execute(sql, params),
    close: () => warehouse.close(),
    async load(batch: MinuteBatch) {
      const result = await warehouse.load(batch);
      progress.loaded(batch.minute.getTime(), batch.counters.length + batch.visitors.length);
      return result;
    },
    async loadBatches(batches: readonly MinuteBatch[]) {
      const results = await warehouse.loadBatches(batches);
      for (const batch of batches) progress.loaded(batch.minute.getTime(), batch.counters.length + batch.visitors.length);
      return results;
    },
  };
}

async function status(config: AppConfig): Promise<void> {
  await withStore(config, async (store) => {
    // Discovery as well as the index of sites: a site whose buckets wait is counted even if Redis lost the index.
    // Buckets whose data is all loaded stay indexed a few minutes (late events); they are not pending.
    const buckets = await store.backlog(Number.MAX_SAFE_INTEGER, { discover: true });
    const events = buckets.reduce((sum, b) => sum + b.events, 0);
    const oldest = buckets.length ? Math.min(...buckets.map((b) => b.minute)) : undefined;
    const memory = await store.usedMemory();
    const last = (await store.lastFlush()) as { startedAt?: string; batches?: number; events?: number } | null;
    print(
      formatRows([
        { metric: 'pending minutes', value: new Set(buckets.map((b) => b.minute)).size },
        { metric: 'pending site-minutes', value: buckets.length },
        { metric: 'pending events', value: events },
        { metric: 'oldest pending minute', value: oldest === undefined ? '-' : formatTime(new Date(oldest)) },
        { metric: 'age of oldest (s)', value: oldest === undefined ? '-' : Math.round((Date.now() - oldest) / 1_000) },
        { metric: config.redisCluster ? 'redis memory (all masters)' : 'redis memory', value: `${(memory / 1_048_576).toFixed(2)}M` },
        { metric: 'last successful flush', value: last?.startedAt ? formatTime(new Date(last.startedAt)) : 'never' },
        { metric: 'last flush batches / events', value: last ? `${last.batches} / ${last.events}` : '-' },
      ], 'table'),
    );
  });
}

async function query(config: AppConfig, name: string | undefined, flags: CommandFlags): Promise<void> {
  if (!name) throw new Error('query needs a name; pnpm cli queries lists them');
  const format = parseFormat(flags.format);
  // Default: the last 24 hours up to the end of the current minute, so periods print as minutes.
  const to = parseTime(flags.to, '--to') ?? new Date(Math.ceil(Date.now() / 60_000) * 60_000);
  const from = parseTime(flags.from, '--from') ?? new Date(to.getTime() - 24 * 3_600_000);
  const limit = flags.limit === undefined ? 10 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive whole number');
  const site = flags.site ?? config.sites[0];
  if (site === undefined) throw new Error('query needs --site (or SITES, whose first site is the default)');
  if (!(from < to)) throw new Error('--from must be before --to');
  const [{ runNamedQuery, listQueries, siteGoals, parseFilters, FILTER_DIMENSIONS, VISITOR_PERIODS }, { createWarehouseFromConfig }] = await Promise.all([warehouses(), flusher()]);
  const by = parseBy(flags.by, VISITOR_PERIODS);
  const flagGoals = parseGoalFlag(flags.goal);
  const dimension = flags.dimension as FilterDimension | undefined;
  if (dimension !== undefined && !FILTER_DIMENSIONS.includes(dimension)) throw new Error(`--dimension must be one of ${FILTER_DIMENSIONS.join(', ')}`);
  let filters: Filters;
  try {
    filters = parseFilters((flags.filter ?? []).map((f) => (f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [f, ''])));
  } catch (error) {
    throw new Error(`--filter: ${(error as Error).message}`);
  }
  const entry = listQueries(config.warehouse.kind).find((q) => q.name === name);
  const warehouse = createWarehouseFromConfig(config.warehouse);
  try {
    // An unknown name fails in runNamedQuery, naming the queries of the pack.
    // The goal queries report --goal, else the site's goals as the dashboard shows them.
    const goals = flagGoals ?? (entry?.params.includes('goal') ? await siteGoals(warehouse, site, config.goals) : []);
    print(formatRows(await runNamedQuery(warehouse, name, { site, from, to, limit, by, page: flags.page, goals, dimension, filters }), format, entry?.columns), format);
  } finally {
    await warehouse.close();
  }
}

function parseFormat(text: string | undefined): OutputFormat {
  if (text === undefined) return 'table';
  if (!isOutputFormat(text)) throw new Error(`--format must be ${OUTPUT_FORMATS.join(', ')}`);
  return text;
}

/** `--goal`: goals as GOALS takes them, instead of the site's. */
function parseGoalFlag(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  let goals: string[];
  try {
    goals = parseGoals(text);
  } catch (error) {
    throw new Error(`--goal: ${(error as Error).message}`);
  }
  if (goals.length === 0) throw new Error('--goal must name a goal: a custom event name or a page path such as /thank-you');
  return goals;
}

function parseBy(text: string | undefined, periods: readonly VisitorPeriod[]): VisitorPeriod | undefined {
  if (text === undefined) return undefined;
  if (!(periods as readonly string[]).includes(text)) throw new Error(`--by must be ${periods.join(' or ')}`);
  return text as VisitorPeriod;
}

function parseTime(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/.test(text) ? `${text}${text.length === 10 ? 'T00:00' : ''}Z` : text;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`${flag} must be a UTC time such as 2026-11-27 or 2026-11-27T10:00`);
  return date;
}
