import { describe, expect, it } from 'vitest';
import { validateEvent, visitorId, type RawEvent, type RequestContext } from '../src/index.js';

const DESKTOP = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const context: RequestContext = { userAgent: DESKTOP, ip: '192.0.2.1', receivedAt: 0 };
const options = { sites: new Set(['example.com']), salt: 'salt-a' };
const valid = (raw: RawEvent, ctx = context) => {
  const result = validateEvent(raw, ctx, options);
  if (!result.ok) throw new Error(result.reason);
  return result.event;
};

describe('visitorId', () => {
  // Pinned to what earlier versions computed: another digest in the middle of a day would make
  // every visitor of that day a second one after an upgrade.
  it('is the first 22 characters of base64url SHA-256 over salt, site, address and user agent joined by NUL', () => {
    expect(visitorId({ salt: 'salt-1', site: 'example.com', ip: '203.0.113.7', userAgent: 'Mozilla/5.0' })).toBe('h:MwSM431obiZ-Y7OO8hQD_x');
    expect(visitorId({ uid: 'user-7', salt: 'salt-1', site: 'example.com', ip: '203.0.113.7', userAgent: 'Mozilla/5.0' })).toBe('u:user-7');
  });
});

describe('validateEvent', () => {
  it('derives referrer host, device and utm from the page URL', () => {
    const event = valid({ site: 'Example.com', path: '/a?utm_source=news&utm_medium=email&utm_campaign=x#top', ref: 'https://www.Google.com/search' });
    expect(event).toMatchObject({ site: 'example.com', event: 'pageview', path: '/a', referrer: 'google.com', device: 'desktop', utmSource: 'news', utmMedium: 'email', utmCampaign: 'x' });
  });

  it('treats no referrer and same-site referrers as (direct)', () => {
    expect(valid({ site: 'example.com', path: '/' }).referrer).toBe('(direct)');
    expect(valid({ site: 'example.com', path: '/', ref: 'https://www.example.com/x' }).referrer).toBe('(direct)');
    expect(valid({ site: 'example.com', path: '/', ref: 'https://blog.example.com/x' }).referrer).toBe('(direct)');
  });

  it('takes the path from url, then from the Referer header', () => {
    expect(valid({ site: 'example.com', url: 'https://example.com/p%20q?utm_source=a' })).toMatchObject({ path: '/p q', utmSource: 'a' });
    expect(valid({ site: 'example.com' }, { ...context, refererPath: '/from-header' }).path).toBe('/from-header');
    expect(validateEvent({ site: 'example.com' }, context, options)).toEqual({ ok: false, reason: 'missing_path' });
  });

  it('classifies devices and bots', () => {
    const phone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    const tablet = 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    expect(valid({ site: 'example.com', path: '/' }, { ...context, userAgent: phone }).device).toBe('mobile');
    expect(valid({ site: 'example.com', path: '/' }, { ...context, userAgent: tablet }).device).toBe('tablet');
    const bot = validateEvent({ site: 'example.com', path: '/' }, { ...context, userAgent: 'curl/8.5.0' }, options);
    expect(bot).toMatchObject({ ok: true, bot: true });
    expect(validateEvent({ site: 'example.com', path: '/' }, { ...context, userAgent: '' }, options)).toMatchObject({ ok: true, bot: true });
  });

  it('counts a bot that sends allow_bots: true, and rejects allow_bots of any other type', () => {
    const headless = { ...context, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36' };
    expect(validateEvent({ site: 'example.com', path: '/' }, headless, options)).toMatchObject({ ok: true, bot: true });
    expect(validateEvent({ site: 'example.com', path: '/', allow_bots: false }, headless, options)).toMatchObject({ ok: true, bot: true });
    expect(validateEvent({ site: 'example.com', path: '/', allow_bots: true }, headless, options)).toMatchObject({ ok: true, bot: false });
    for (const allow_bots of ['true', 1, {}, []]) {
      expect(validateEvent({ site: 'example.com', path: '/', allow_bots }, headless, options)).toEqual({ ok: false, reason: 'invalid_field_type' });
    }
  });

  it('hashes visitors with the day salt, and prefers an explicit uid', () => {
    const a = valid({ site: 'example.com', path: '/' }).visitorId;
    expect(a).toMatch(/^h:[A-Za-z0-9_-]{22}$/);
    expect(a).not.toContain('192.0.2.1');
    expect(valid({ site: 'example.com', path: '/x' }).visitorId).toBe(a);
    expect(validateEvent({ site: 'example.com', path: '/' }, context, { ...options, salt: 'salt-b' })).not.toMatchObject({ event: { visitorId: a } });
    expect(valid({ site: 'example.com', path: '/', uid: 'user-7' }).visitorId).toBe('u:user-7');
  });
});
