import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Presented } from './token-gate.js';

export const SESSION_COOKIE = 'rta_dashboard';

/**
 * One secret token, compared in constant time: both sides are 32-byte HMAC digests, so neither
 * the length nor the comparison time says anything about the token.
 */
export class SecretToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = mac(token, 'compare');
  }

  matches(candidate: string): boolean {
    return timingSafeEqual(mac(candidate, 'compare'), this.digest);
  }

  /** What `Authorization: Bearer <token>` presents; `missing` without the header. */
  presentedAsBearer(req: IncomingMessage): Presented {
    const header = req.headers.authorization;
    if (header === undefined) return 'missing';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match && this.matches(match[1]!) ? 'granted' : 'invalid';
  }
}

/**
 * Access to the dashboard and its APIs. With no token configured everything is `disabled`
 * (never open by default). A request is let in by `Authorization: Bearer <token>` or by the
 * HttpOnly cookie the login form sets. The cookie holds HMAC-SHA256(token, "rta-dashboard-v1"),
 * not the token: it proves the login without exposing the token, and changing the token logs
 * every browser out. What a request presented still has to pass the TokenGate.
 */
export class DashboardAuth {
  private readonly cookieValue: Buffer | undefined;
  readonly token: SecretToken | undefined;

  constructor(token: string | undefined) {
    this.cookieValue = token === undefined ? undefined : mac(token, 'rta-dashboard-v1');
    this.token = token === undefined ? undefined : new SecretToken(token);
  }

  get enabled(): boolean {
    return this.token !== undefined;
  }

  check(req: IncomingMessage): Presented | 'disabled' {
    if (!this.token || !this.cookieValue) return 'disabled';
    if (req.headers.authorization !== undefined) return this.token.presentedAsBearer(req);
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie === undefined) return 'missing';
    const presented = Buffer.from(cookie, 'base64url');
    return presented.length === this.cookieValue.length && timingSafeEqual(presented, this.cookieValue) ? 'granted' : 'invalid';
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
