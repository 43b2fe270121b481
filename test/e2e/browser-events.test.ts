/**
 * The browser script's automatic events in real headless Chromium: with data-track-outbound and
 * data-track-downloads, a click on a link to another host and on a file link each arrive as one
 * custom event (`outbound`, `download`) with the page and origin the README documents, and the
 * browser still goes where the link points; without the attributes they send nothing; a 404
 * page's `analytics.track('404', {path})` counts the missing path. Counted exactly, in Redis and
 * after a flush in the warehouse.
 */
import { describe, expect, it } from 'vitest';
import type { LiveView } from '@rta/redis-store';
import { warehouseCounts } from '../support/warehouses.js';
import { flushOnce } from '../support/pipeline.js';
import { browserTestbed } from '../support/browser-testbed.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/wait.js';

const SITE = 'example.com';
const TOKEN = 'test-dashboard-token-0123456789';

describe('outbound links, downloads and 404 pages in Chromium', () => {
  const bed = browserTestbed({ site: SITE, token: TOKEN, warehouse: true });
  const { redis, prefix } = bed;
  const live = async () => {
    const res = await fetch(`${bed.tracker.base}/api/live?site=${SITE}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await res.json()) as LiveView;
  };
  const events = (l: LiveView) => Object.fromEntries(l.customEvents.map((e) => [e.value, e.count]));

  it('sends nothing for link clicks without data-track-outbound and data-track-downloads', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const sent: string[] = [];
      page.on('request', (r) => void (r.url() === `${bed.tracker.base}/e` && sent.push(JSON.parse(r.postData() ?? '{}').event)));
      await page.goto(`${bed.site.base}/`);
      await waitFor(live, (l) => l.pageviewsLast30Minutes === 1);
      const download = page.waitForEvent('download');
      await page.click('#download');
      expect((await download).suggestedFilename()).toBe('report.pdf');
      await Promise.all([page.waitForURL(/\/plain$/), page.click('#outbound')]);
      // A page view after the clicks: had a click sent a beacon, it would have been sent before this one.
      await page.goto(`${bed.site.base}/pricing`);
      expect(await waitFor(live, (l) => l.pageviewsLast30Minutes === 2)).toMatchObject({ pageviewsLast30Minutes: 2, customEvents: [] });
      expect(sent).toEqual(['pageview', 'pageview']);
    } finally {
      await browser.close();
    }
  });

  it('counts one outbound click and one download, exactly, and both links still do what they do', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const beacons: Array<Record<string, unknown>> = [];
      page.on('request', (r) => void (r.url() === `${bed.tracker.base}/e` && beacons.push(JSON.parse(r.postData() ?? '{}'))));
      await page.goto(`${bed.site.base}/?outbound&downloads`);
      await waitFor(live, (l) => l.pageviewsLast30Minutes === 3);

      const download = page.waitForEvent('download');
      await page.click('#download');
      const file = await download;
      expect(file.suggestedFilename()).toBe('report.pdf');
      expect(await file.failure()).toBeNull(); // the download completed
      await waitFor(live, (l) => events(l).download === 1);

      // The outbound link navigates: the browser lands on the other host's page.
      await Promise.all([page.waitForURL(`http://localhost:${new URL(bed.site.base).port}/plain`), page.click('#outbound')]);
      expect(await page.locator('#title').innerText()).toBe('Elsewhere');
      const now = await waitFor(live, (l) => events(l).outbound === 1);
      expect(events(now)).toEqual({ download: 1, outbound: 1 });
      expect(now.pageviewsLast30Minutes).toBe(3); // the page without the script sent nothing
      expect(beacons.map((b) => b.event)).toEqual(['pageview', 'download', 'outbound']);
      expect(beacons[1]).toMatchObject({ path: '/files/report.pdf', ref: bed.site.base });
      expect(beacons[2]).toMatchObject({ ref: `http://localhost:${new URL(bed.site.base).port}`, url: `${bed.site.base}/?outbound&downloads` });
    } finally {
      await browser.close();
    }
  });

  it("counts analytics.track('404', {path}) from a 404 page under the missing path", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const response = await page.goto(`${bed.site.base}/missing`);
      expect(response?.status()).toBe(404);
      expect(events(await waitFor(live, (l) => events(l)['404'] === 1))).toMatchObject({ '404': 1 });
    } finally {
      await browser.close();
    }

    await flushOnce(prefix, bed.warehouse, { now: Date.now(), includeCurrentMinute: true });
    const counts = new Map<string, number>();
    for (const [key, n] of await warehouseCounts(bed.warehouse)) {
      const [, , event, dimension, value] = key.split('|');
      // What the user agent and the address give (device, browser, os, country, and so the
      // combination) is browser-geo.test.ts's.
      if (['outbound', 'download', '404'].includes(event!) && !['device', 'browser', 'os', 'country', 'combination'].includes(dimension!)) {
        const k = `${event}|${dimension}|${value}`;
        counts.set(k, (counts.get(k) ?? 0) + n);
      }
    }
    expect(Object.fromEntries(counts)).toEqual({
      // page: where the click happened; referrer: the link's host.
      'outbound|total|': 1,
      'outbound|page|/': 1,
      'outbound|referrer|localhost': 1,
      // page: the file; referrer: its host (the test site runs on 127.0.0.1, not example.com).
      'download|total|': 1,
      'download|page|/files/report.pdf': 1,
      'download|referrer|127.0.0.1': 1,
      '404|total|': 1,
      '404|page|/missing': 1,
      '404|referrer|(direct)': 1,
    });
  });
});
