/**
 * The browser script in real headless Chromium, end to end: a test site with the one-tag
 * install, two SPA navigations and a custom event become exactly 3 page views, 1 signup,
 * 1 visit and 1 visitor in Redis and, after a flush, in the warehouse; the dashboard shows the
 * numbers its APIs return; pages that opt out send nothing.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { AnalyticsKeys, type LiveView } from '@rta/redis-store';
import { keysOf } from '../support/redis.js';
import { warehouseCounts } from '../support/warehouses.js';
import { flushOnce, startTestTracker } from '../support/pipeline.js';
import { browserTestbed } from '../support/browser-testbed.js';
import { README_TEST_USER_AGENT, launchChromium, logIntoDashboard } from '../support/browser.js';
import { ROOT } from '../support/child.js';
import { waitFor } from '../support/wait.js';

/** Tests never write tracked files: the screenshot goes to a temporary folder unless `pnpm screenshot` names docs/dashboard.png. */
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT;

const SITE = 'example.com';
const TOKEN = 'test-dashboard-token-0123456789';

describe('browser script and dashboard in Chromium', () => {
  const bed = browserTestbed({ site: SITE, token: TOKEN, warehouse: true, goals: ['signup', '/pricing'] });
  const { redis, prefix } = bed;
  const api = async <T>(path: string, token: string | null = TOKEN): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${bed.tracker.base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as T };
  };
  const live = async () => (await api<LiveView & { botHitsLastHour: number }>(`/api/live?site=${SITE}`)).body;
  /** Sums of the counter hashes `total` over every bucket and generation of the site in Redis. */
  const redisTotals = async () => {
    const totals: Record<string, number> = {};
    const buckets = `${new AnalyticsKeys(prefix).site(SITE).tag}:2`; // bucket keys: <site tag>:<yyyymmddhhmm>:…
    for (const key of (await keysOf(redis, prefix)).filter((k) => k.startsWith(buckets) && k.includes(':c:total:'))) {
      for (const [field, n] of Object.entries(await redis.hgetall(key))) {
        const event = field.split('\x1f')[0]!;
        totals[event] = (totals[event] ?? 0) + Number(n);
      }
    }
    return totals;
  };

  it('serves t.js under 1.5 KB gzipped', async () => {
    const res = await fetch(`${bed.tracker.base}/t.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(gzipSync(Buffer.from(await res.arrayBuffer()), { level: 9 }).length).toBeLessThan(1_536);
  });

  it('counts 3 page views, 1 signup, 1 visit and 1 visitor from load, two pushState navigations and a click', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const beacons: string[] = [];
      page.on('request', (r) => void (r.url() === `${bed.tracker.base}/e` && beacons.push(r.postData() ?? '')));
      await page.goto(`${bed.site.base}/`);
      await waitFor(live, (l) => l.pageviewsLast30Minutes === 1);
      await page.click('#to-pricing');
      await waitFor(live, (l) => l.pageviewsLast30Minutes === 2);
      await page.click('#to-docs');
      await waitFor(live, (l) => l.pageviewsLast30Minutes === 3);
      await page.click('#signup');
      const now = await waitFor(live, (l) => l.customEvents.length === 1);

      expect(beacons.map((b) => JSON.parse(b).event)).toEqual(['pageview', 'pageview', 'pageview', 'signup']);
      expect(JSON.parse(beacons[1]!)).toMatchObject({ site: SITE, url: `${bed.site.base}/pricing` });
      expect(await redisTotals()).toEqual({ pageview: 3, signup: 1, visit: 1, engaged_visit: 1 });
      expect(now).toMatchObject({ visitorsNow: 1, visitsInProgress: 1, visitsLast30Minutes: 1, pageviewsLast30Minutes: 3 });
      expect(now.topPages).toEqual([
        { value: '/', count: 1 },
        { value: '/docs', count: 1 },
        { value: '/pricing', count: 1 },
      ]);
      expect(now.topReferrers).toEqual([{ value: '(direct)', count: 3 }]);
      expect(now.customEvents).toEqual([{ value: 'signup', count: 1 }]);
    } finally {
      await browser.close();
    }

    const summary = await flushOnce(prefix, bed.warehouse, { now: Date.now(), includeCurrentMinute: true });
    expect(summary.events).toBe(4);
    const totals = new Map<string, number>();
    for (const [key, n] of await warehouseCounts(bed.warehouse)) {
      const [, , event, dimension, value] = key.split('|');
      const k = `${event}|${dimension}|${value}`;
      totals.set(k, (totals.get(k) ?? 0) + n);
    }
    expect(Object.fromEntries([...totals].filter(([k]) => k.includes('|total|') || k.includes('|entry_page|')))).toEqual({
      'pageview|total|': 3,
      'signup|total|': 1,
      'visit|total|': 1,
      'visit|entry_page|/': 1,
      'engaged_visit|total|': 1,
      'engaged_visit|entry_page|/': 1,
    });
    const visitors = await bed.warehouse.query("SELECT DISTINCT visitors FROM unique_visitors WHERE dimension = 'total'");
    expect(visitors).toEqual([{ visitors: 1 }]);
  });

  it.each([
    ['with data-respect-dnt when Do Not Track is on', '/?dnt', true],
    ['from 127.0.0.1 without data-allow-localhost', '/?no-opt-in', false],
  ])('sends nothing %s', async (_, path, doNotTrack) => {
    const browser = await launchChromium({ doNotTrack });
    try {
      const page = await browser.context.newPage();
      const sent: string[] = [];
      page.on('request', (r) => void (r.url().startsWith(bed.tracker.base) && !r.url().endsWith('/t.js') && sent.push(r.url())));
      await page.goto(`${bed.site.base}${path}`);
      await page.waitForFunction(() => 'analytics' in globalThis);
      if (doNotTrack) expect(await page.evaluate(() => (globalThis as unknown as { navigator: { doNotTrack: string | null } }).navigator.doNotTrack)).toBe('1');
      await page.click('#to-pricing');
      await page.click('#signup');
      // A request the page makes after the clicks: any beacon they caused was sent before it.
      const marker = `${bed.tracker.base}/healthz?after-clicks`;
      await page.evaluate((url) => fetch(url, { mode: 'no-cors' }).then(() => undefined), marker); // opaque: /healthz sends no CORS headers
      expect(await waitFor(async () => sent, (s) => s.includes(marker))).toEqual([marker]);
    } finally {
      await browser.close();
    }
  });

  it('keeps the dashboard and its APIs behind the token', async () => {
    for (const path of ['/api/live', '/api/history']) {
      expect((await api(`${path}?site=${SITE}`, null)).status).toBe(401);
      expect((await api(`${path}?site=${SITE}`, 'wrong-token-wrong-token')).status).toBe(401);
    }
    const page = await fetch(`${bed.tracker.base}/dashboard`);
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toContain('name="token"');
    expect(html).not.toContain('/pricing');
  });

  it('shows in Chromium the numbers its APIs return, and takes a screenshot', async () => {
    const liveApi = await live();
    const history = (await api<{ range: { totals: Record<string, number | null> }; series: Array<{ pageviews: number }> }>(`/api/history?site=${SITE}`)).body;
    expect(history.range.totals).toMatchObject({ pageviews: 3, visits: 1, bounces: 0, bounceRate: 0, pagesPerVisit: 3 });
    expect(history.series.reduce((sum, h) => sum + h.pageviews, 0)).toBe(3);

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await logIntoDashboard(page, bed.tracker.base, TOKEN);
      const cookie = (await browser.context.cookies()).find((c) => c.name === 'rta_dashboard');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(await texts(page, ['#live-visitors', '#live-visits-open', '#live-visits', '#live-pageviews', '#live-bots'])).toEqual(
        [liveApi.visitorsNow, liveApi.visitsInProgress, liveApi.visitsLast30Minutes, liveApi.pageviewsLast30Minutes, liveApi.botHitsLastHour].map(String),
      );
      expect(await page.locator('#live-pages tbody tr').allInnerTexts()).toEqual(liveApi.topPages.map((p) => `${p.value}\t${p.count}`));
      const historyStatus = await page.locator('#history-status').innerText();
      expect(await texts(page, ['#h-pageviews', '#h-visits', '#h-bounce', '#h-ppv']), historyStatus).toEqual(['3', '1', '0.0%', '3.00']);
      expect(await page.locator('#h-entry tbody tr').allInnerTexts()).toEqual(['/\t1\t0.0%']);
      // The goals from the clicks above: the signup and the view of /pricing, by the one visitor.
      expect(await page.locator('#h-goals tbody tr').allInnerTexts()).toEqual(['signup\t1\t1\t100.0%\tvs –', '/pricing\t1\t1\t100.0%\tvs –']);
      // Per page and source: the signup sent from /docs, which the visitor saw; every hit's source
      // is (direct) (no referrer, then same-site ones), and the one visitor converted from it.
      expect(await page.locator('#h-goal-pages tbody tr').allInnerTexts()).toEqual(['signup\t/docs\t1\t1\t100.0%', '/pricing\t/pricing\t1\t1\t100.0%']);
      expect(await page.locator('#h-goal-sources tbody tr').allInnerTexts()).toEqual(['signup\t(direct)\t1\t1\t100.0%', '/pricing\t(direct)\t1\t1\t100.0%']);
      const dir = SCREENSHOT ? undefined : mkdtempSync(join(tmpdir(), 'rta-screenshot-'));
      const path = SCREENSHOT ?? join(dir!, 'dashboard.png');
      await page.screenshot({ path, fullPage: true });
      expect(statSync(path).size).toBeGreaterThan(10_000);
      if (dir) rmSync(dir, { recursive: true, force: true });

      await page.setViewportSize({ width: 390, height: 844 }); // a phone: no horizontal scrolling
      expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    } finally {
      await browser.close();
    }
  });

  it('answers 503 with a clear message when DASHBOARD_TOKEN is unset', async () => {
    const locked = await startTestTracker({ prefix, sites: [SITE], now: 'real' });
    try {
      const page = await fetch(`${locked.base}/dashboard`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('set DASHBOARD_TOKEN');
      const res = await fetch(`${locked.base}/api/live?site=${SITE}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'dashboard_disabled' });
    } finally {
      await locked.close();
    }
  });
});

describe('checking an installation with headless Chromium', () => {
  const bed = browserTestbed({ site: SITE, token: TOKEN });
  const { redis, prefix } = bed;
  const live = async () => {
    const res = await fetch(`${bed.tracker.base}/api/live?site=${SITE}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await res.json()) as LiveView & { botHitsLastHour: number };
  };

  /** Opens the test site in Chromium with `userAgent` (null: HeadlessChrome's own); returns the status of its page view's beacon. */
  async function visit(path: string, userAgent: string | null): Promise<number> {
    const browser = await launchChromium({ userAgent });
    try {
      const page = await browser.context.newPage();
      const answered = page.waitForResponse((r) => r.url() === `${bed.tracker.base}/e`);
      await page.goto(`${bed.site.base}${path}`);
      return (await answered).status();
    } finally {
      await browser.close();
    }
  }

  it('ignores HeadlessChrome as a bot, and the dashboard shows the ignored hit', async () => {
    expect(await visit('/', null)).toBe(202); // ignored, not rejected
    expect(await waitFor(live, (l) => l.botHitsLastHour === 1)).toMatchObject({ botHitsLastHour: 1, pageviewsLast30Minutes: 0 });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await logIntoDashboard(page, bed.tracker.base, TOKEN);
      expect(await texts(page, ['#live-pageviews', '#live-bots'])).toEqual(['0', '1']);
    } finally {
      await browser.close();
    }
  });

  it('counts HeadlessChrome on a page whose script tag has data-allow-bots', async () => {
    expect(await visit('/?allow-bots', null)).toBe(202);
    expect(await waitFor(live, (l) => l.pageviewsLast30Minutes === 1)).toMatchObject({ pageviewsLast30Minutes: 1, botHitsLastHour: 1 });
  });

  it("counts a headless browser given the README's test user agent", async () => {
    expect(await visit('/', README_TEST_USER_AGENT)).toBe(202);
    expect(await waitFor(live, (l) => l.pageviewsLast30Minutes === 2)).toMatchObject({ pageviewsLast30Minutes: 2, botHitsLastHour: 1 });
  });
});

async function texts(page: Page, selectors: string[]): Promise<string[]> {
  return Promise.all(selectors.map((s) => page.locator(s).innerText()));
}
