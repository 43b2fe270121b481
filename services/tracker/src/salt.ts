import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { LogLimiter } from '@rta/config';

const DAY_MS = 86_400_000;

/** Where salts come from: `AnalyticsStore.daySalt` (creates the day's salt in Redis once, 48 h TTL). */
export interface SaltSource {
  daySalt(day: string): Promise<string>;
}

export interface DailySaltOptions {
  /** Pause between attempts to fetch a salt that Redis did not give (ms). Default 5,000. */
  retryMs?: number;
  /** Where failures are reported, one line per interval. */
  limiter: LogLimiter;
  /** node-cron's own messages (a missed run) go here, as JSON. */
  logger: Logger;
}

/** When tomorrow's salt is fetched (UTC); a tracker started later than this fetches it at start. */
export const SALT_PREFETCH = { cron: '55 23 * * *', minutesBeforeMidnight: 5 } as const;

/**
 * The visitor salt of each UTC day, held in memory and fetched off the request path:
 *
 * - `start()` fetches today's salt before the tracker listens and rejects when Redis does not
 *   give it, so a tracker that could not hash visitors never starts listening;
 * - at 23:55 UTC a node-cron task fetches tomorrow's salt (creating it in Redis if no tracker
 *   did yet), retrying every `retryMs` until it has it, past midnight if it must;
 * - `today()` reads memory only. A request with events to count while today's salt is missing
 *   (every fetch failed: Redis is down) is answered 503 and calls `fetchToday()`, which starts
 *   the same retrying fetch in the background. A rejected request never reaches Redis.
 */
export class DailySalt {
  private readonly salts = new Map<string, string>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly retryMs: number;
  /** The node-cron task of the 23:55 UTC prefetch (exposed for its schedule). */
  task: ScheduledTask | undefined;

  constructor(
    private readonly source: SaltSource,
    private readonly clock: () => number,
    private readonly options: DailySaltOptions,
  ) {
    this.retryMs = options.retryMs ?? 5_000;
  }

  async start(): Promise<void> {
    const now = this.clock();
    const today = dayOf(now);
    this.remember(today, await this.source.daySalt(today));
    if (now + SALT_PREFETCH.minutesBeforeMidnight * 60_000 >= (Math.floor(now / DAY_MS) + 1) * DAY_MS) void this.prefetchTomorrow();
    this.task = schedule(SALT_PREFETCH.cron, () => this.prefetchTomorrow(), { timezone: 'UTC', logger: cronLogger(this.options.logger) });
  }

  stop(): void {
    this.stopping.abort();
    void this.task?.stop();
  }

  /** Today's salt when it is in memory, else undefined. Never touches Redis. */
  today(): string | undefined {
    return this.salts.get(dayOf(this.clock()));
  }

  /** Fetches today's salt in the background unless it is in memory or on its way. */
  fetchToday(): void {
    void this.ensure(dayOf(this.clock()));
  }

  /** What the 23:55 UTC task runs; resolves once tomorrow's salt is in memory (or it gave up). */
  prefetchTomorrow(): Promise<void> {
    return this.ensure(dayOf(this.clock() + DAY_MS));
  }

  private ensure(day: string): Promise<void> {
    if (this.salts.has(day)) return Promise.resolve();
    let running = this.fetching.get(day);
    if (!running) {
      running = this.fetchWithRetries(day).finally(() => this.fetching.delete(day));
      this.fetching.set(day, running);
    }
    return running;
  }

  private async fetchWithRetries(day: string): Promise<void> {
    for (;;) {
      try {
        this.remember(day, await this.source.daySalt(day));
        return;
      } catch (error) {
        this.options.limiter.warn({ err: error, day }, 'cannot fetch the visitor salt from Redis; retrying');
      }
      // A day that is over needs no salt any more; a stopped tracker needs none at all.
      if (this.stopping.signal.aborted || day < dayOf(this.clock())) return;
      if (!(await this.pause())) return; // stopped
    }
  }

  /** Waits `retryMs`; false when the tracker stopped meanwhile. */
  private pause(): Promise<boolean> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', stopped);
        resolve(true);
      }, this.retryMs);
      timer.unref();
      const stopped = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', stopped, { once: true });
    });
  }

  private remember(day: string, salt: string): void {
    this.salts.set(day, salt);
    const today = dayOf(this.clock());
    for (const known of this.salts.keys()) if (known < today) this.salts.delete(known);
  }
}

let lastDay = NaN;
let lastDayText = '';

/** `yyyy-mm-dd` in UTC (memoised: asked per hit, and nearly always for today). */
function dayOf(time: number): string {
  const day = Math.floor(time / DAY_MS);
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDayText;
}

/** node-cron's logger interface on pino, so that its messages are JSON lines too. */
export function cronLogger(logger: Logger) {
  const fields = (error?: unknown) => (error === undefined ? {} : { err: error });
  return {
    info: (message: string) => logger.info(message),
    warn: (message: string) => logger.warn(message),
    error: (message: string | Error, error?: Error) =>
      message instanceof Error ? logger.error({ err: message }, message.message) : logger.error(fields(error), message),
    debug: (message: string | Error, error?: Error) =>
      message instanceof Error ? logger.debug({ err: message }, message.message) : logger.debug(fields(error), message),
  };
}
