/**
 * Countries, browsers and operating systems in real headless Chromium, end to end: visitors
 * with known addresses (blocks the bundled database places in one country each, and a private
 * one) and known user agents browse a page with t.js, behind a proxy that appends their address
 * to X-Forwarded-For; after a flush, the dashboard's Countries, Browsers and Operating systems
 * cards show exactly what was sent, and their CSV downloads equal the warehouse's queries. A
 * click on a country filters every card by it, a second click on a page narrows it further, the
 * filters are chips kept in the URL (a reload shows the same view), and a chip removes its filter.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LiveView } from '@rta/redis-store';
import { formatRows, listQueries, runNamedQuery } from '@rta/warehouse';
import { flushOnce } from '../support/pipeline.js';
import { browserTestbed } from '../support/browser-testbed.js';
import { launchChromium, logIntoDashboard } from '../support/browser.js';
import { parseCsv } from '../support/csv.js';
import { waitFor } from '../support/wait.js';

const SITE = 'example.com';
const TOKEN = 'test-dashboard-token-0123456789';
const UA = {
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
};
/** Each visitor: address, user agent, and how many pages it views. */
const VISITORS = [
  { ip: '8.8.8.8', ua: UA.firefoxLinux, pages: 3 }, // US
  { ip: '217.0.0.1', ua: UA.chromeWindows, pages: 2 }, // DE
  { ip: '217.0.44.9', ua: UA.chromeWindows, pages: 2 }, // DE
  { ip: '133.0.12.1', ua: UA.iphone, pages: 1 }, // JP
  { ip: '41.0.0.3', ua: UA.safariMac, pages: 1 }, // ZA
  { ip: '10.20.30.40', ua: UA.safariMac, pages: 1 }, // private: (unknown)
];
const PAGEVIEWS = VISITORS.reduce((n, v) => n + v.pages, 0);

describe('countries, browsers and systems in Chromium', () => {
  const bed = browserTestbed({ site: SITE, token: TOKEN, warehouse: true, trustProxy: true });
  const live = async () => {
    const res = await fetch(`${bed.tracker.base}/api/live?site=${SITE}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await res.json()) as LiveView;
  };

  it('shows the visitors of each country, browser and system on the dashboard, and downloads them as the warehouse has them', async () => {
    let viewed = 0;
    for (const visitor of VISITORS) {
      const browser = await launchChromium({ userAgent: visitor.ua });
      try {
        // The proxy in front of the tracker: it appends the client's address.
        await browser.context.route(`${bed.tracker.base}/**`, (route) => route.continue({ headers: { ...route.request().headers(), 'x-forwarded-for': visitor.ip } }));
        const page = await browser.context.newPage();
        await page.goto(`${bed.site.base}/`);
        viewed++;
        await waitFor(live, (l) => l.pageviewsLast30Minutes === viewed);
        for (const id of ['#to-pricing', '#to-docs'].slice(0, visitor.pages - 1)) {
          await page.click(id);
          viewed++;
          await waitFor(live, (l) => l.pageviewsLast30Minutes === viewed);
        }
      } finally {
        await browser.close();
      }
    }
    expect((await live()).pageviewsLast30Minutes).toBe(PAGEVIEWS);
    const summary = await flushOnce(bed.prefix, bed.warehouse, { now: Date.now() + 3 * 60_000 });
    expect(summary.events).toBe(PAGEVIEWS);

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await logIntoDashboard(page, bed.tracker.base, TOKEN);
      const rows = (id: string) => page.locator(`#${id} tbody tr`).allInnerTexts();
      // Ordered as the query orders them: views, then the code.
      expect(await rows('h-countries')).toEqual(['Germany (DE)\t4', 'United States (US)\t3', '(unknown)\t1', 'Japan (JP)\t1', 'South Africa (ZA)\t1']);
      expect(await rows('h-browsers')).toEqual(['Chrome 131\t4', 'Firefox 128\t3', 'Safari 17\t2', 'Mobile Safari 17\t1']);
      expect(await rows('h-os')).toEqual(['Windows\t4', 'Linux\t3', 'macOS\t2', 'iOS\t1']);

      // Each card's CSV is its query of the pack on the warehouse, over the dashboard's range.
      const columns = new Map(listQueries('duckdb').map((q) => [q.name, q.columns]));
      const history = await fetch(`${bed.tracker.base}/api/history?site=${SITE}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const shown = ((await history.json()) as { range: { from: string; to: string } }).range;
      const range = { site: SITE, from: new Date(shown.from), to: new Date(shown.to), limit: 1_000 };
      for (const [card, query] of [['h-countries', 'top-countries'], ['h-browsers', 'top-browsers'], ['h-os', 'top-os']] as const) {
        const download = page.waitForEvent('download');
        await page.locator(`#${card} a.csv`).click();
        const csv = readFileSync((await (await download).path())!, 'utf8');
        expect(parseCsv(csv)[0], query).toEqual(columns.get(query));
        expect(csv, query).toBe(formatRows(await runNamedQuery(bed.warehouse, query, range), 'csv', columns.get(query)));
      }

      // Drill-down. The two visitors from Germany (Chrome on Windows) viewed / and /pricing each.
      const settled = () => page.evaluate(() => (globalThis as unknown as { dashboardReady: Promise<unknown> }).dashboardReady);
      const chips = () => page.locator('#filter-list li').allInnerTexts();
      const cards = async () => ({
        pages: await rows('h-pages'),
        countries: await rows('h-countries'),
        browsers: await rows('h-browsers'),
        os: await rows('h-os'),
        devices: await rows('h-devices'),
        referrers: await rows('h-referrers'),
        pageviews: await page.locator('#h-pageviews').innerText(),
        visitors: await page.locator('#h-visitors').innerText(),
      });
      await page.locator('#h-countries button', { hasText: 'Germany (DE)' }).click();
      await settled();
      expect(new URL(page.url()).searchParams.get('country')).toBe('DE');
      expect(await chips()).toEqual(['country: Germany (DE)\n×']);
      const germany = {
        pages: ['/\t2', '/pricing\t2'],
        countries: ['Germany (DE)\t4'],
        browsers: ['Chrome 131\t4'],
        os: ['Windows\t4'],
        devices: ['desktop\t4'],
        referrers: ['(direct)\t4'],
        pageviews: '4',
        visitors: '2', // the sketches of Germany's combinations, merged
      };
      expect(await cards()).toEqual(germany);
      expect(await page.locator('#h-entry').isHidden()).toBe(true);
      // Downloads are of the filtered queries: traffic is filtered-traffic, visitors filtered-visitors.
      const visitorLinks = await page.locator('a.csv[data-query="visitors"]').evaluateAll((links) => links.map((a) => ({ hidden: (a as unknown as { hidden: boolean }).hidden, href: a.getAttribute('href') ?? '' })));
      expect(visitorLinks.map((l) => [l.hidden, new URL(l.href, bed.tracker.base).searchParams.get('query')])).toEqual([
        [false, 'filtered-visitors'],
        [false, 'filtered-visitors'],
      ]);
      expect(new URL(await page.locator('a.csv[data-query="traffic"][data-kind="range"]').getAttribute('href') ?? '', bed.tracker.base).searchParams.get('query')).toBe('filtered-traffic');
      const visitorsDownload = page.waitForEvent('download');
      await page.locator('a.csv[data-query="visitors"][data-kind="range"]').click();
      const visitorsCsv = readFileSync((await (await visitorsDownload).path())!, 'utf8');
      expect(visitorsCsv).toBe(formatRows(await runNamedQuery(bed.warehouse, 'filtered-visitors', { ...range, filters: { country: 'DE' } }), 'csv', columns.get('filtered-visitors')));
      expect(parseCsv(visitorsCsv)[1]?.[1]).toBe('2');
      // A filtered card's CSV is filtered-top of its dimension with the filters.
      const download = page.waitForEvent('download');
      await page.locator('#h-browsers a.csv').click();
      const csv = readFileSync((await (await download).path())!, 'utf8');
      const filteredTop = columns.get('filtered-top');
      expect(csv).toBe(formatRows(await runNamedQuery(bed.warehouse, 'filtered-top', { ...range, dimension: 'browser', filters: { country: 'DE' } }), 'csv', filteredTop));
      expect(parseCsv(csv)).toEqual([filteredTop, ['Chrome 131', '4']]);

      // A second filter narrows the first; the view is a bookmark.
      await page.locator('#h-pages button', { hasText: '/pricing' }).click();
      await settled();
      expect(await chips()).toEqual(['page: /pricing\n×', 'country: Germany (DE)\n×']);
      const both = { ...germany, pages: ['/pricing\t2'], countries: ['Germany (DE)\t2'], browsers: ['Chrome 131\t2'], os: ['Windows\t2'], devices: ['desktop\t2'], referrers: ['(direct)\t2'], pageviews: '2', visitors: '2' };
      expect(await cards()).toEqual(both);
      await page.reload();
      await settled();
      expect(await chips()).toEqual(['page: /pricing\n×', 'country: Germany (DE)\n×']);
      expect(await cards()).toEqual(both);

      // Removing the country leaves /pricing: viewed by the two from Germany and the one from the US.
      await page.getByRole('button', { name: 'Remove the filter country DE' }).click();
      await settled();
      expect(new URL(page.url()).searchParams.has('country')).toBe(false);
      expect(await rows('h-countries')).toEqual(['Germany (DE)\t2', 'United States (US)\t1']);
      expect(await rows('h-browsers')).toEqual(['Chrome 131\t2', 'Firefox 128\t1']);
      expect(await page.locator('#h-visitors').innerText()).toBe('3');
      await page.getByRole('button', { name: 'Remove the filter page /pricing' }).click();
      await settled();
      expect(await page.locator('#filters').isHidden()).toBe(true);
      expect(await rows('h-countries')).toEqual(['Germany (DE)\t4', 'United States (US)\t3', '(unknown)\t1', 'Japan (JP)\t1', 'South Africa (ZA)\t1']);
      expect(await page.locator('#h-visitors').innerText()).not.toBe('–');
    } finally {
      await browser.close();
    }
  });
});

