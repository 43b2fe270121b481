import type { Logger } from 'pino';

export type LimitedLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogLimiterOptions {
  /** At most one line per message and interval, in milliseconds. Default 10,000. */
  intervalMs?: number;
}

export const logLimiterDefaults = { intervalMs: 10_000 } as const;

interface Burst {
  timer: NodeJS.Timeout;
  repeated: number;
  fields: object;
}

/**
 * One line per interval for a failure that repeats per request or per reconnect (Redis down:
 * every request fails the same way). The first occurrence of a (level, message) is logged at
 * once; repeats within the interval are only counted, and when the interval ends one line
 * reports them: the same message and the fields of the last repeat, plus `repeated` (how many
 * were not logged) and `intervalMs`. An interval without repeats ends the burst, so the next
 * occurrence is logged at once again. Timers are unref'd: a limiter never keeps a process alive.
 */
export class LogLimiter {
  private readonly bursts = new Map<string, Burst>();
  private readonly intervalMs: number;

  constructor(
    private readonly logger: Logger,
    options: LogLimiterOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? logLimiterDefaults.intervalMs;
  }

  error(fields: object, message: string): void {
    this.log('error', fields, message);
  }

  warn(fields: object, message: string): void {
    this.log('warn', fields, message);
  }

  log(level: LimitedLevel, fields: object, message: string): void {
    const key = `${level}\u0000${message}`;
    const burst = this.bursts.get(key);
    if (burst) {
      burst.repeated++;
      burst.fields = fields;
      return;
    }
    this.logger[level](fields, message);
    this.bursts.set(key, { timer: this.arm(key, level, message), repeated: 0, fields });
  }

  /** Reports every pending count now and ends every burst (call it on shutdown). */
  flush(): void {
    for (const [key, burst] of this.bursts) {
      clearTimeout(burst.timer);
      const [level, message] = key.split('\u0000') as [LimitedLevel, string];
      if (burst.repeated > 0) this.report(level, message, burst);
    }
    this.bursts.clear();
  }

  private arm(key: string, level: LimitedLevel, message: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const burst = this.bursts.get(key)!;
      if (burst.repeated === 0) {
        this.bursts.delete(key);
        return;
      }
      this.report(level, message, burst);
      burst.repeated = 0;
      burst.timer = this.arm(key, level, message);
    }, this.intervalMs);
    timer.unref();
    return timer;
  }

  private report(level: LimitedLevel, message: string, burst: Burst): void {
    this.logger[level]({ ...burst.fields, repeated: burst.repeated, intervalMs: this.intervalMs }, message);
  }
}
