import { execMulti, type RedisClient } from './redis-client.js';
import { minuteOf, type AnalyticsKeys } from './keys.js';

/** Minutes of bot hits the live view reports (the current minute and the 59 before it). */
export const BOT_WINDOW_MINUTES = 60;
/** A minute's counter outlives the window it serves by two minutes (seconds). */
const RETENTION_SECONDS = (BOT_WINDOW_MINUTES + 2) * 60;

/**
 * Hits from bots per site and minute, for the live view: bots are never counted as events,
 * but the dashboard shows how many hits were ignored. One string counter per minute under the
 * site's live tag (`LiveKeys.bots`), so several trackers add up. Single-key commands only: a
 * write is `INCRBY` and `EXPIRE` in a MULTI on that one key, a read one `GET` per minute.
 */
export class BotCounts {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: AnalyticsKeys,
  ) {}

  /** Adds `hits` to the minute of `time` (ms) and resolves once Redis acknowledged it. */
  async add(site: string, time: number, hits: number): Promise<void> {
    const key = this.keys.live(site).bots(minuteOf(time));
    await execMulti(this.redis.multi().incrby(key, hits).expire(key, RETENTION_SECONDS));
  }

  /** Bot hits of the last `BOT_WINDOW_MINUTES` minutes, the minute of `now` (ms) included. */
  async lastHour(site: string, now: number): Promise<number> {
    const live = this.keys.live(site);
    const current = minuteOf(now);
    const counts = await Promise.all(
      Array.from({ length: BOT_WINDOW_MINUTES }, (_, i) => this.redis.get(live.bots(current - i * 60_000))),
    );
    return counts.reduce((sum, count) => sum + Number(count ?? 0), 0);
  }
}
