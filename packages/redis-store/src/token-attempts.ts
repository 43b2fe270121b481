import { execMulti, type RedisClient } from './redis-client.js';
import type { AnalyticsKeys } from './keys.js';

/**
 * `<prefix>:token-attempts:<client>`: attempts to present a token from one client in the
 * current window, a string counter whose TTL is what is left of the window. `client` is a
 * digest the caller makes (base64url), never an address.
 */
export function tokenAttemptsKey(keys: AnalyticsKeys, client: string): string {
  return `${keys.prefix}:token-attempts:${client}`;
}

export interface AttemptCount {
  /** Attempts in the window, this one included for `reserve`. */
  count: number;
  /** Milliseconds left in the window (0 when there is none). */
  msLeft: number;
}

/**
 * Token attempts per client, in Redis so that every tracker process counts into one throttle
 * (it holds behind a load balancer) and memory is bounded by the window: a key lives as long as
 * its window, which the first attempt starts (`PEXPIRE … NX`). Single-key commands only, each
 * group in a MULTI on its one key, so the keys may sit on any Redis Cluster slot.
 */
export class TokenAttempts {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: AnalyticsKeys,
  ) {}

  /** The count without changing it. */
  async peek(client: string): Promise<AttemptCount> {
    const key = tokenAttemptsKey(this.keys, client);
    const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
    return { count: Number(count ?? 0), msLeft: Math.max(0, ttl) };
  }

  /** Counts an attempt before its token is checked; the window starts with the first. */
  async reserve(client: string, windowMs: number): Promise<AttemptCount> {
    const key = tokenAttemptsKey(this.keys, client);
    const [count, , ttl] = await execMulti(this.redis.multi().incr(key).pexpire(key, windowMs, 'NX').pttl(key));
    return { count: Number(count), msLeft: Math.max(0, Number(ttl)) };
  }

  /** Takes back a reserved attempt whose token was right (a key that expired meanwhile gets a window again). */
  async release(client: string, windowMs: number): Promise<void> {
    const key = tokenAttemptsKey(this.keys, client);
    await execMulti(this.redis.multi().decr(key).pexpire(key, windowMs, 'NX'));
  }
}
