import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'rta_dashboard';

/** Wrong tokens allowed per client address and window before it gets 429. */
export const LOGIN_THROTTLE = { attempts: 10, windowMs: 15 * 60_000 } as const;

/** What a request presented for the dashboard and its APIs. */
export type DashboardAccess = 'granted' | 'missing' | 'invalid' | 'disabled';

/**
 * Access to the dashboard and its APIs. With no token configured everything is `disabled`
 * (never open by default). A request is let in by `Authorization: Bearer <token>` or by the
 * HttpOnly cookie the login form sets. The cookie holds HMAC-SHA256(token, "rta-dashboard-v1"),
 * not the token: it proves the login without exposing the token, and changing the token logs
 * every browser out. Comparisons are constant-time (equal-length digests).
 */
export class DashboardAuth {
  /** Failed attempts per client address in the current window, for `throttled`. */
  private readonly failures = new Map<string, { count: number; since: number }>();
  private readonly cookieValue: Buffer | undefined;
  private readonly tokenDigest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.cookieValue = token === undefined ? undefined : mac(token, 'rta-dashboard-v1');
    this.tokenDigest = token === undefined ? undefined : mac(token, 'compare');
  }

  get enabled(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** Checks a token typed into the login form or sent as a bearer token. */
  tokenMatches(candidate: string): boolean {
    if (!this.tokenDigest) return false;
    // Both sides are 32-byte digests, so neither the length nor the comparison time says anything about the token.
    return timingSafeEqual(mac(candidate, 'compare'), this.tokenDigest);
  }

  check(req: IncomingMessage): DashboardAccess {
    if (!this.cookieValue) return 'disabled';
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      return match && this.tokenMatches(match[1]!) ? 'granted' : 'invalid';
    }
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie === undefined) return 'missing';
    const presented = Buffer.from(cookie, 'base64url');
    return presented.length === this.cookieValue.length && timingSafeEqual(presented, this.cookieValue) ? 'granted' : 'invalid';
  }

  /**
   * Brute-force guard: after `LOGIN_THROTTLE.attempts` wrong tokens from one client address
   * within `LOGIN_THROTTLE.windowMs`, that address gets 429 until the window ends, even with the
   * right token. Returns the seconds to wait, or 0.
   */
  throttled(ip: string, now = Date.now()): number {
    const entry = this.failures.get(ip);
    if (!entry || now - entry.since >= LOGIN_THROTTLE.windowMs) return 0;
    return entry.count >= LOGIN_THROTTLE.attempts ? Math.ceil((entry.since + LOGIN_THROTTLE.windowMs - now) / 1_000) : 0;
  }

  recordFailure(ip: string, now = Date.now()): void {
    const entry = this.failures.get(ip);
    if (entry && now - entry.since < LOGIN_THROTTLE.windowMs) entry.count++;
    else {
      if (this.failures.size >= 10_000) this.failures.clear(); // bounded memory under a flood
      this.failures.set(ip, { count: 1, since: now });
    }
  }

  /** `Set-Cookie` after a successful login; `secure` when the dashboard is served over HTTPS. */
  loginCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=${this.cookieValue!.toString('base64url')}; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000${secure ? '; Secure' : ''}`;
  }

  static logoutCookie(): string {
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}

function mac(key: string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
