/**
 * The dashboard's history in real headless Chromium: date-range presets and custom ranges kept
 * in the URL (a bookmark opens the same view), every figure next to the previous period of the
 * same length with the right % change (data loaded into both periods, and just outside them),
 * bad ranges in the URL refused with a clear message, and each card's CSV download equal to its
 * query of the SQL pack on the warehouse.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildRegisters, encodeRedisHll } from '@rta/hll';
import { formatRows, listQueries, readSql, runNamedQuery, storedGoals, type CounterRow, type MinuteBatch, type VisitorRow, type Warehouse } from '@rta/warehouse';
import { combination } from '../support/expected-counts.js';
import { deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';
import { warehouseFixtures, type WarehouseFixture } from '../support/warehouses.js';
import { startTestTracker, type TestTracker } from '../support/pipeline.js';
import { launchChromium, logIntoDashboard } from '../support/browser.js';
import { parseCsv } from '../support/csv.js';

const SITE = 'example.com';
const TOKEN = 'test-dashboard-token-0123456789';
/** The tracker's clock: 12:00 UTC on 10 March 2026, so "today" has run for half a day. */
const NOW = Date.UTC(2026, 2, 10, 12, 0);
const at = (iso: string) => new Date(`${iso}Z`);

interface Period {
  minute: string;
  pageviews: number;
  visits?: number;
  engaged?: number;
  /** Distinct visitors `v<from>` … of the minute's sketch. */
  visitors?: [number, number];
  pages?: Record<string, number>;
  /**
   * `signup` events: how many, sent from which page and referrer, by which visitors (`v<from>` …);
   * the minute's visitors saw `/` from that referrer (its page views' combination sketch).
   */
  signups?: { count: number; page: string; referrer: string; converters: [number, number] };
  /** Visitors of the page `/pricing` (its sketch, for the page goal). */
  pricingVisitors?: [number, number];
}

const GOALS = ['signup', '/pricing'];

/**
 * Custom range 1–7 March (previous: 22–28 February) and "today" (10 March until 12:00; previous:
 * 9 March until 12:00), each with data just outside, which no figure may count.
 */
const LOADS: Period[] = [
  // 1–7 March: 30 page views, 10 visits, 4 engaged (6 bounces), 8 visitors.
  // Goals: 5 signups by 3 of the 8 visitors (37.5 %), /pricing seen 5 times by 2 (25 %).
  { minute: '2026-03-01T00:00', pageviews: 10, visits: 4, engaged: 2, visitors: [0, 5], pages: { '/': 6, '/a,b': 4 },
    signups: { count: 3, page: '/pricing', referrer: 'news.example', converters: [0, 2] } },
  { minute: '2026-03-07T23:59', pageviews: 20, visits: 6, engaged: 2, visitors: [3, 5], pages: { '/': 15, '/pricing': 5 },
    signups: { count: 2, page: '/', referrer: '(direct)', converters: [1, 2] }, pricingVisitors: [3, 2] },
  // 22–28 February: 20 page views, 8 visits, 2 engaged (6 bounces), 5 visitors; 2 signups by 1 (20 %), /pricing 8 times by 2 (40 %).
  { minute: '2026-02-22T00:00', pageviews: 12, visits: 5, engaged: 1, visitors: [100, 5], pages: { '/': 12 },
    signups: { count: 2, page: '/', referrer: '(direct)', converters: [100, 1] } },
  { minute: '2026-02-28T23:59', pageviews: 8, visits: 3, engaged: 1, visitors: [102, 3], pages: { '/pricing': 8 }, pricingVisitors: [102, 2] },
  // Outside both: the minute after 7 March and the minute before 22 February.
  { minute: '2026-03-08T00:00', pageviews: 1000, visits: 100, visitors: [500, 50], pages: { '/pricing': 100 },
    signups: { count: 100, page: '/', referrer: 'late.example', converters: [500, 40] }, pricingVisitors: [500, 30] },
  { minute: '2026-02-21T23:59', pageviews: 1000, visits: 100, visitors: [600, 50] },
  // Today until 12:00 (12 page views) against yesterday until 12:00 (8); yesterday's afternoon is not compared.
  { minute: '2026-03-10T09:00', pageviews: 12, visitors: [700, 4] },
  { minute: '2026-03-09T11:59', pageviews: 8, visitors: [800, 2] },
  { minute: '2026-03-09T12:00', pageviews: 100, visitors: [900, 10] },
];

function batch(load: Period, i: number) {
  const counters: CounterRow[] = [];
  const count = (event: string, dimension: CounterRow['dimension'], value: string, n: number) => n > 0 && counters.push({ event, dimension, value, count: BigInt(n) });
  count('pageview', 'total', '', load.pageviews);
  count('visit', 'total', '', load.visits ?? 0);
  count('engaged_visit', 'total', '', load.engaged ?? 0);
  for (const [page, n] of Object.entries(load.pages ?? {})) count('pageview', 'page', page, n);
  count('pageview', 'referrer', '(direct)', load.pageviews);
  count('pageview', 'device', 'desktop', load.pageviews);
  const sketches: MinuteBatch['visitors'] = [];
  const sketch = (dimension: VisitorRow['dimension'], value: string, [from, n]: [number, number]) =>
    n > 0 && sketches.push({ dimension, value, visitors: n, sketch: encodeRedisHll(buildRegisters(Array.from({ length: n }, (_, k) => `v${from + k}`))) });
  sketch('total', '', load.visitors ?? [0, 0]);
  sketch('page', '/pricing', load.pricingVisitors ?? [0, 0]);
  if (load.signups) {
    count('signup', 'total', '', load.signups.count);
    count('signup', 'page', load.signups.page, load.signups.count);
    count('signup', 'referrer', load.signups.referrer, load.signups.count);
    sketch('event', 'signup', load.signups.converters);
    const sent = combination({ page: load.signups.page, referrer: load.signups.referrer });
    count('signup', 'combination', sent, load.signups.count);
    sketch('event_combination', `signup\x1f${sent}`, load.signups.converters);
    const seen = combination({ page: '/', referrer: load.signups.referrer });
    count('pageview', 'combination', seen, 1);
    sketch('combination', seen, load.visitors ?? [0, 0]);
  }
  return { batchId: `range-${i}`, site: SITE, minute: at(load.minute), counters, visitors: sketches };
}

describe('dashboard date ranges, comparison and CSV downloads in Chromium', () => {
  const redis = testRedis();
  const prefix = randomPrefix();
  let fixture: WarehouseFixture;
  let warehouse: Warehouse;
  let tracker: TestTracker;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  beforeAll(async () => {
    fixture = await warehouseFixtures.duckdb!();
    warehouse = fixture.create();
    await warehouse.migrate();
    for (const [i, load] of LOADS.entries()) await warehouse.load(batch(load, i));
    tracker = await startTestTracker({ prefix, sites: [SITE], now: NOW, dashboardToken: TOKEN, warehouse, goals: GOALS });
    browser = await launchChromium();
    page = await browser.context.newPage();
    await logIntoDashboard(page, tracker.base, TOKEN);
  });
  afterAll(async () => {
    await browser?.close();
    await tracker?.close();
    await warehouse?.close();
    await fixture?.stop();
    await deleteKeysOf(redis, prefix);
    redis.disconnect();
  });

  /** Opens a dashboard URL and waits until it has drawn (or refused) its history. */
  async function open(query: string): Promise<void> {
    await page.goto(`${tracker.base}/dashboard${query}`);
    await page.waitForFunction(() => (globalThis as unknown as { dashboardReady?: Promise<unknown> }).dashboardReady !== undefined);
    await page.evaluate(() => (globalThis as unknown as { dashboardReady: Promise<unknown> }).dashboardReady);
  }
  const figures = () =>
    Promise.all(['pageviews', 'visitors', 'visits', 'bounce', 'ppv'].flatMap((id) => [page.locator(`#h-${id}`).innerText(), page.locator(`#h-${id}-change`).innerText()]));

  it('shows a bookmarked custom range next to the previous 7 days, with the % changes', async () => {
    await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07`);
    expect(await figures()).toEqual([
      '30', '+50.0% vs 20', // page views 30 against 20
      '8', '+60.0% vs 5', // visitors 8 against 5
      '10', '+25.0% vs 8', // visits
      '60.0%', '-15.0 pp vs 75.0%', // bounce rate 6/10 against 6/8
      '3.00', '+20.0% vs 2.50', // pages per visit 30/10 against 20/8
    ]);
    expect(await page.locator('#compare-note').innerText()).toBe('compared with 2026-02-22 00:00 – 2026-03-01 00:00 UTC');
    expect(await page.locator('#h-bounce-change').getAttribute('class')).toBe('change up'); // fewer bounces: good news
    expect(await page.locator('#h-pages tbody tr').allInnerTexts()).toEqual(['/\t21', '/pricing\t5', '/a,b\t4']);
    expect([await page.inputValue('#preset'), await page.inputValue('#from'), await page.inputValue('#to')]).toEqual(['custom', '2026-03-01', '2026-03-07']);

    // Goals: conversions, merged unique converters, their rate of the visitors, and the rate's
    // change against the previous period; per source and page, converters and their rate of the
    // source's visitors (5 each) and of the page's (/pricing: 2, /: 8).
    expect(await page.locator('#h-goals tbody tr').allInnerTexts()).toEqual([
      'signup\t5\t3\t37.5%\t+17.5 pp vs 20.0%',
      '/pricing\t5\t2\t25.0%\t-15.0 pp vs 40.0%',
    ]);
    expect(await page.locator('#h-goal-sources tbody tr').allInnerTexts()).toEqual(['signup\tnews.example\t3\t2\t40.0%', 'signup\t(direct)\t2\t2\t40.0%']);
    expect(await page.locator('#h-goal-pages tbody tr').allInnerTexts()).toEqual([
      'signup\t/pricing\t3\t2\t100.0%',
      'signup\t/\t2\t2\t25.0%',
      '/pricing\t/pricing\t5\t2\t100.0%',
    ]);
  });

  it('compares today until now with yesterday until the same time, and keeps a preset in the URL', async () => {
    await page.selectOption('#preset', 'today');
    await page.waitForURL(`${tracker.base}/dashboard?site=${SITE}&range=today`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('h-pageviews').textContent === '12');
    expect((await figures()).slice(0, 4)).toEqual(['12', '+50.0% vs 8', '4', '+100.0% vs 2']);
    expect(await page.locator('#series-title').innerText()).toBe('Per hour');
    // The bookmark opens the same view.
    await open(`?site=${SITE}&range=today`);
    expect((await figures()).slice(0, 2)).toEqual(['12', '+50.0% vs 8']);
    expect([await page.inputValue('#preset'), await page.inputValue('#from'), await page.inputValue('#to')]).toEqual(['today', '2026-03-10', '2026-03-10']);

    // A custom range picked in the form goes into the URL too.
    await page.fill('#from', '2026-03-01');
    await page.fill('#to', '2026-03-07');
    expect(await page.inputValue('#preset')).toBe('custom');
    await page.click('#range button[type=submit]');
    await page.waitForURL(`${tracker.base}/dashboard?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('h-pageviews').textContent === '30');
  });

  it.each([
    ['an unknown preset', '?range=fortnight', 'range must be one of today, yesterday, 7d, 30d, this-month, last-month, 12mo, custom'],
    ['an end before the start', '?range=custom&from=2026-03-07&to=2026-03-01', 'from must be before to, at most 366 days apart'],
    ['a date that is not one', '?range=custom&from=2026-02-30x&to=2026-03-01', 'from and to must be ISO-8601 dates or UTC times such as 2026-11-27 or 2026-11-27T10:00'],
    ['more than a year', '?range=custom&from=2024-01-01&to=2026-03-01', 'from must be before to, at most 366 days apart'],
  ])('refuses %s in the URL with a clear message and shows no figures', async (_, query, message) => {
    await open(query);
    expect(await page.locator('#history-error').innerText()).toBe(`History unavailable: ${message}`);
    expect(await page.locator('#h-pageviews').innerText()).toBe('–');
    expect(page.url()).toBe(`${tracker.base}/dashboard${query}`); // the URL is left as it was
    const api = await fetch(`${tracker.base}/api/history${query}&site=${SITE}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(400);
    expect(await api.json()).toEqual({ error: 'invalid_range', message });
  });

  it("downloads every history card as CSV equal to the card's query on the warehouse", async () => {
    await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07`);
    const range = { site: SITE, from: at('2026-03-01T00:00'), to: at('2026-03-08T00:00') };
    const links = await page.locator('a.csv').evaluateAll((as) => as.map((a) => ({ query: a.getAttribute('data-query')!, kind: a.getAttribute('data-kind')! })));
    expect(links.map((l) => l.query).sort()).toEqual([
      'goal-pages', 'goal-sources', 'goals',
      'top-browsers', 'top-campaigns', 'top-countries', 'top-devices', 'top-entry-pages', 'top-os', 'top-pages', 'top-referrers',
      'traffic', 'traffic', 'visitors', 'visitors',
    ]);
    const columns = new Map(listQueries('duckdb').map((q) => [q.name, q.columns]));
    for (const [i, link] of links.entries()) {
      // Chromium 156 starts no more than 10 downloads from one page load: open it again before.
      if (i > 0 && i % 8 === 0) await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07`);
      const download = page.waitForEvent('download');
      await page.locator('a.csv').nth(i).click();
      const file = await download;
      const csv = readFileSync((await file.path())!, 'utf8');
      const params = { ...range, by: link.kind === 'series' ? ('day' as const) : undefined, limit: /^(top|goal)-/.test(link.query) ? 1_000 : 10, goals: GOALS };
      const expected = formatRows(await runNamedQuery(warehouse, link.query, params), 'csv', columns.get(link.query));
      expect(csv, `${link.query} (${link.kind})`).toBe(expected);
      expect(parseCsv(csv)[0], link.query).toEqual(columns.get(link.query));
      expect(file.suggestedFilename()).toBe(`${SITE}_${link.query}_2026-03-01_2026-03-08.csv`);
    }
    // The numbers themselves, read back: top pages as the SQL of the pack returns them.
    await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07`);
    const download = page.waitForEvent('download');
    await page.locator('#h-pages a.csv').click();
    const [header, ...records] = parseCsv(readFileSync((await (await download).path())!, 'utf8'));
    const rows = await warehouse.query(readSql('duckdb', 'top-pages'), { ...range, limit: 1_000, by: null, page: null });
    expect([header, ...records]).toEqual([['page', 'pageviews'], ...rows.map((r) => [String(r.page), String(r.pageviews)])]);
    expect(records).toEqual([['/', '21'], ['/pricing', '5'], ['/a,b', '4']]);
  });

  it("under a filter on the page alone shows the page's visitors against the previous period's, and downloads them", async () => {
    const figure = async () => [await page.locator('#h-visitors').innerText(), await page.locator('#h-visitors-change').innerText()];
    await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07&page=%2Fpricing`);
    expect(await figure()).toEqual(['2', '0.0% vs 2']); // v3, v4 against v102, v103
    const links = page.locator('a.csv[data-query=visitors]');
    expect(await links.evaluateAll((as) => as.map((a) => (a as unknown as { hidden: boolean }).hidden))).toEqual([false, false]);
    for (const [i, by] of [undefined, 'day' as const].entries()) {
      const download = page.waitForEvent('download');
      await links.nth(i).click();
      const csv = readFileSync((await (await download).path())!, 'utf8');
      const rows = await runNamedQuery(warehouse, 'visitors', { site: SITE, from: at('2026-03-01T00:00'), to: at('2026-03-08T00:00'), by, page: '/pricing' });
      expect(rows.length).toBeGreaterThan(0);
      expect(csv).toBe(formatRows(rows, 'csv', ['period', 'visitors']));
    }
    // Another filter next to the page: the visitors of the combinations' sketches (none in these
    // minutes, which have no combination rows), and their download is filtered-visitors.
    await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07&page=%2Fpricing&country=DE`);
    expect(await figure()).toEqual(['0', 'vs 0']);
    const queries = await links.evaluateAll((as) => as.map((a) => [(a as unknown as { hidden: boolean }).hidden, new URL((a as unknown as { href: string }).href).searchParams.get('query')]));
    expect(queries).toEqual([[false, 'filtered-visitors'], [false, 'filtered-visitors']]);
  });

  it('adds a goal on the dashboard, keeps it in the warehouse across reloads, and removes it', async () => {
    await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07`);
    const chips = () => page.locator('#goal-list li').evaluateAll((lis) => lis.map((li) => `${li.textContent}${li.querySelector('button') ? '' : ' (GOALS)'}`));
    const settled = () => page.evaluate(() => (globalThis as unknown as { dashboardReady: Promise<unknown> }).dashboardReady);
    const goalRows = () => page.locator('#h-goals tbody tr').allInnerTexts();
    expect(await chips()).toEqual(['signup (GOALS)', '/pricing (GOALS)']);

    // Bad input: a clear message, nothing stored.
    for (const [input, message] of [
      ['sign up', 'Goals: "sign up" is neither a page path (starting with /) nor an event name (1-64 characters of A-Z a-z 0-9 _ . : -)'],
      ['/a,/b', 'Goals: goal must be one custom event name or page path, such as signup or /thank-you'],
    ]) {
      await page.fill('#goal-input', input!);
      await page.click('#goal-form button[type=submit]');
      await settled();
      expect(await page.locator('#goal-error').innerText()).toBe(message);
    }
    expect(await storedGoals(warehouse, SITE)).toEqual([]);

    // The page goal "/": its page views in the range against the previous period's.
    await page.fill('#goal-input', '/');
    await page.click('#goal-form button[type=submit]');
    await settled();
    expect(await page.locator('#goal-error').isHidden()).toBe(true);
    expect(await chips()).toEqual(['signup (GOALS)', '/pricing (GOALS)', '/×']);
    expect(await storedGoals(warehouse, SITE)).toEqual(['/']);
    const withRoot = ['signup\t5\t3\t37.5%\t+17.5 pp vs 20.0%', '/pricing\t5\t2\t25.0%\t-15.0 pp vs 40.0%', '/\t21\t8\t100.0%\t0.0 pp vs 100.0%'];
    expect(await goalRows()).toEqual(withRoot);

    // Kept across a reload (in the warehouse, not the page), and in the goals download.
    await open(`?site=${SITE}&range=custom&from=2026-03-01&to=2026-03-07`);
    expect(await goalRows()).toEqual(withRoot);
    const download = page.waitForEvent('download');
    await page.locator('#h-goals a.csv').click();
    expect(parseCsv(readFileSync((await (await download).path())!, 'utf8')).map((r) => r.slice(0, 2))).toEqual([['goal', 'conversions'], ['signup', '5'], ['/pricing', '5'], ['/', '21']]);

    // A goal of GOALS is not removed here; a stored one is.
    const headers = { authorization: `Bearer ${TOKEN}` };
    const refused = await fetch(`${tracker.base}/api/goals?site=${SITE}&goal=signup`, { method: 'DELETE', headers });
    expect([refused.status, await refused.json()]).toEqual([400, { error: 'configured_goal', message: '"signup" is one of GOALS; remove it there' }]);
    await page.getByRole('button', { name: 'Remove the goal /' }).click();
    await settled();
    expect(await chips()).toEqual(['signup (GOALS)', '/pricing (GOALS)']);
    expect(await goalRows()).toEqual(withRoot.slice(0, 2));
    expect(await storedGoals(warehouse, SITE)).toEqual([]);
    const listed = await fetch(`${tracker.base}/api/goals?site=${SITE}`, { headers });
    expect(await listed.json()).toEqual({ configured: GOALS, stored: [] });
  });

  it('shows stored goals on every tracker of the site, and stores at most 50 per site', async () => {
    const other = 'b.example';
    const [one, two] = [await startTestTracker({ prefix, sites: [other], now: NOW, dashboardToken: TOKEN, warehouse }), await startTestTracker({ prefix, sites: [other], now: NOW, dashboardToken: TOKEN, warehouse })];
    try {
      const goals = async (base: string, method = 'GET', goal?: string) => {
        const res = await fetch(`${base}/api/goals?site=${other}${goal === undefined ? '' : `&goal=${encodeURIComponent(goal)}`}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
        return { status: res.status, body: (await res.json()) as { stored?: string[]; error?: string; message?: string } };
      };
      const names = Array.from({ length: 50 }, (_, i) => `goal.${i}`);
      for (const name of names) expect((await goals(one.base, 'POST', name)).status).toBe(201);
      names.sort(); // the tracker's clock stands still here: one added_at, so by name
      expect(await goals(one.base, 'POST', 'goal.7')).toMatchObject({ status: 201, body: { stored: names } }); // there already
      expect(await goals(one.base, 'POST', 'goal.50')).toEqual({ status: 400, body: { error: 'too_many_goals', message: "a site's dashboard can add at most 50 goals" } });
      expect(await goals(two.base)).toEqual({ status: 200, body: { configured: [], stored: names } });
      expect(await goals(two.base, 'POST', '')).toMatchObject({ status: 400, body: { error: 'invalid_goal' } });
      expect(await storedGoals(warehouse, SITE)).toEqual([]); // another site's goals are its own
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('answers bad export requests with a clear 400', async () => {
    const get = async (query: string) => {
      const res = await fetch(`${tracker.base}/api/export?site=${SITE}&${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return { status: res.status, body: await res.json() };
    };
    expect(await get('query=nope')).toMatchObject({ status: 400, body: { error: 'unknown_query' } });
    expect(await get('query=top-pages&limit=0')).toMatchObject({ status: 400, body: { error: 'invalid_limit' } });
    expect(await get('query=traffic&by=week')).toMatchObject({ status: 400, body: { error: 'invalid_by', message: 'by must be hour or day' } });
    expect(await get('query=traffic&range=fortnight')).toMatchObject({ status: 400, body: { error: 'invalid_range' } });
    expect(await get('query=filtered-top&dimension=city')).toEqual({
      status: 400,
      body: { error: 'invalid_dimension', message: 'filtered-top needs dimension: one of page, referrer, device, country, browser, os, utm_source, utm_medium, utm_campaign' },
    });
    expect(await get('query=filtered-top&dimension=page&country=DE&country=FR')).toEqual({ status: 400, body: { error: 'invalid_filter', message: 'country is filtered twice; give one value' } });
    expect(await get(`query=filtered-traffic&page=${'x'.repeat(2_049)}`)).toMatchObject({ status: 400, body: { error: 'invalid_filter' } });
    expect(await get('query=filtered-traffic&os=%1F')).toMatchObject({ status: 400, body: { error: 'invalid_filter' } });
    // A query without filters refuses them rather than answer unfiltered figures; visitors takes the page alone.
    expect(await get('query=top-pages&country=DE')).toEqual({ status: 400, body: { error: 'invalid_filter', message: 'query "top-pages" cannot be filtered: the filtered-* queries take filters' } });
    expect(await get('query=visitors&page=/&country=DE')).toEqual({
      status: 400,
      body: { error: 'invalid_filter', message: 'query "visitors" takes a filter on the page alone (its page); filter the filtered-* queries (filtered-visitors for visitors) by page, country' },
    });
    // The history takes the same filters, and refuses the same way.
    const history = await fetch(`${tracker.base}/api/history?site=${SITE}&browser=`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect({ status: history.status, body: await history.json() }).toEqual({
      status: 400,
      body: { error: 'invalid_filter', message: 'the browser filter must be a value of 1 to 2048 characters without control characters' },
    });
    expect((await fetch(`${tracker.base}/api/export?site=${SITE}&query=traffic`)).status).toBe(401);

    // A tracker without GOALS: no goal rows in the history, and the goal downloads say why.
    const plain = await startTestTracker({ prefix, sites: [SITE], now: NOW, dashboardToken: TOKEN, warehouse });
    try {
      const headers = { authorization: `Bearer ${TOKEN}` };
      const history = (await (await fetch(`${plain.base}/api/history?site=${SITE}&range=7d`, { headers })).json()) as { range: { goals: unknown[]; goalSources: unknown[] } };
      expect([history.range.goals, history.range.goalSources]).toEqual([[], []]);
      const res = await fetch(`${plain.base}/api/export?site=${SITE}&query=goals&range=7d`, { headers });
      expect([res.status, await res.json()]).toEqual([400, { error: 'no_goals', message: "goals reports the site's goals (GOALS and those added on the dashboard), and it has none" }]);
    } finally {
      await plain.close();
    }
  });
});
