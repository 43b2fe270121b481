/**
 * Countries, browsers and operating systems in real headless Chromium, end to end: visitors
 * with known addresses (blocks the bundled database places in one country each, and a private
 * one) and known user agents browse a page with t.js, behind a proxy that appends their address
 * to X-Forwarded-For; after a flush, the dashboard's Countries, Browsers and Operating systems
 * cards show exactly what was sent, and their CSV downloads equal the warehouse's queries.
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
    } finally {
      await browser.close();
    }
  });
});

