import { createHash } from 'node:crypto';

/**
 * Visitor id without cookies, as Plausible does: a hash of the site, client address and user
 * agent with a salt that changes daily and is deleted after 48 hours, so the id cannot be
 * reversed to an address nor followed across days. An explicit `uid` from the page wins.
 */
export function visitorId(input: { uid?: string; salt: string; site: string; ip: string; userAgent: string }): string {
  if (input.uid !== undefined) return `u:${input.uid}`;
  const digest = createHash('sha256')
    .update(input.salt)
    .update('\0')
    .update(input.site)
    .update('\0')
    .update(input.ip)
    .update('\0')
    .update(input.userAgent)
    .digest('base64url');
  return `h:${digest.slice(0, 22)}`;
}
