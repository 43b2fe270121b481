import { createHmac } from 'node:crypto';
import type { TokenAttempts } from '@rta/redis-store';
import { RedisUnavailable } from './count-events.js';

/** Token attempts allowed per client address and window; past them the address gets 429. */
export const LOGIN_THROTTLE = { attempts: 10, windowMs: 15 * 60_000 } as const;

/** What a request presented: the right token (or login cookie), a wrong one, or none. */
export type Presented = 'granted' | 'invalid' | 'missing';

/** `Presented` once the throttle had its say; `blocked` carries the seconds until the window ends. */
export type Admission = Presented | { blocked: number };

/**
 * The one throttle in front of every endpoint that checks a token: the dashboard page, the
 * login form, `/api/*` and `/metrics` with `METRICS_TOKEN`. Attempts are counted per client
 * address in Redis (TokenAttempts), shared by every tracker process and bounded by the window,
 * so no flood of other addresses can make it forget a blocked one. An address is known to
 * Redis only as an HMAC keyed by the configured tokens.
 *
 * Every request that presents a token first reserves an attempt and only then learns whether
 * its token was right; a right token gives its attempt back. So at most `attempts` wrong
 * tokens per address and window are ever checked, however many arrive at once. A request with
 * no token only reads the count: a blocked address gets 429 for the login form too.
 */
export class TokenGate {
  constructor(
    private readonly attempts: TokenAttempts,
    private readonly secret: string,
    private readonly limits: { attempts: number; windowMs: number } = LOGIN_THROTTLE,
  ) {}

  async admit(ip: string, presented: Presented): Promise<Admission> {
    const client = createHmac('sha256', this.secret).update(ip).digest('base64url');
    try {
      if (presented === 'missing') {
        const { count, msLeft } = await this.attempts.peek(client);
        return count >= this.limits.attempts && msLeft > 0 ? { blocked: Math.ceil(msLeft / 1_000) } : 'missing';
      }
      const { count, msLeft } = await this.attempts.reserve(client, this.limits.windowMs);
      if (count > this.limits.attempts) return { blocked: Math.max(1, Math.ceil(msLeft / 1_000)) };
      if (presented === 'granted') await this.attempts.release(client, this.limits.windowMs);
      return presented;
    } catch (error) {
      throw new RedisUnavailable('cannot count token attempts in Redis', { cause: error });
    }
  }
}
