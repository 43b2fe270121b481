import { schedule, type ScheduledTask } from 'node-cron';
import type { AnalyticsStore } from '@rta/redis-store';

/**
 * The visitor salt of the current UTC day, fetched from Redis once per day and process. A
 * wall-clock task fetches the new day's salt at midnight so no request waits for it.
 */
export class DailySalt {
  private readonly salts = new Map<string, Promise<string>>();
  private current: { dayNumber: number; salt: string } | undefined;
  private task: ScheduledTask | undefined;

  constructor(
    private readonly store: AnalyticsStore,
    private readonly clock: () => number,
  ) {}

  start(): void {
    this.task = schedule('0 0 * * *', () => void this.get().catch(() => undefined), { timezone: 'UTC' });
  }

  stop(): void {
    void this.task?.stop();
  }

  /** Today's salt when it is in memory (every request but the first of a day), else undefined. */
  cached(): string | undefined {
    const current = this.current;
    return current && current.dayNumber === Math.floor(this.clock() / 86_400_000) ? current.salt : undefined;
  }

  /** Resolves from memory except on the first request of a day. */
  get(): Promise<string> {
    const dayNumber = Math.floor(this.clock() / 86_400_000);
    const day = new Date(dayNumber * 86_400_000).toISOString().slice(0, 10);
    let salt = this.salts.get(day);
    if (!salt) {
      salt = this.store.daySalt(day);
      salt.then(
        (value) => {
          this.current = { dayNumber, salt: value };
        },
        () => this.salts.delete(day), // retry on the next request
      );
      this.salts.clear();
      this.salts.set(day, salt);
    }
    return salt;
  }
}
