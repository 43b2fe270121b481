/**
 * What `pnpm cli query` and `pnpm cli flush` print, through the compiled CLI: ratios rounded,
 * periods as dates or minutes, `--format csv|json` for spreadsheets and jq, and the progress of
 * a catch-up over many minutes (plain lines when stderr is not a terminal).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnalyticsStore, minuteOf, type EventWrite } from '@rta/redis-store';
import { createDuckDBWarehouse, formatRows, listQueries, runNamedQuery, storeGoal, type CounterRow } from '@rta/warehouse';
import { parseCsv } from '../support/csv.js';
import { combination } from '../support/expected-counts.js';
import { exited, spawnCli } from '../support/child.js';
import { deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';

const SITE = 'example.com';
const dir = mkdtempSync(join(tmpdir(), 'rta-cli-output-'));
const prefix = randomPrefix();
const env = { SITES: SITE, REDIS_PREFIX: prefix, DUCKDB_PATH: join(dir, 'warehouse.duckdb') };
const cli = async (...args: string[]) => {
  const result = await exited(spawnCli(args, env));
  expect(result.code, result.output).toBe(0);
  return result.output;
};
const redis = testRedis({ autoPipelining: true });

afterAll(async () => {
  await deleteKeysOf(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** 7 page views in 3 visits, 2 of them engaged: bounce rate 1/3, 2.33 pages per visit. */
function traffic(minute: Date, batchId: string) {
  const total = (event: string, count: number): CounterRow => ({ event, dimension: 'total', value: '', count: BigInt(count) });
  return { batchId, site: SITE, minute, counters: [total('pageview', 7), total('visit', 3), total('engaged_visit', 2)], visitors: [] };
}

describe('cli query output', () => {
  it('prints ratios rounded, periods as dates or minutes, and CSV or JSON on request', async () => {
    const warehouse = createDuckDBWarehouse({ path: env.DUCKDB_PATH });
    const recent = new Date(minuteOf(Date.now()) - 10 * 60_000);
    try {
      await warehouse.migrate();
      await warehouse.load(traffic(new Date(Date.UTC(2026, 10, 27, 10, 5)), 'day'));
      await warehouse.load(traffic(recent, 'recent'));
    } finally {
      await warehouse.close();
    }
    const range = ['--from', '2026-11-27', '--to', '2026-11-28'];

    expect((await cli('query', 'traffic', ...range)).trim().split('\n')).toEqual([
      'period      pageviews  visits  bounces  bounce_rate  pages_per_visit',
      '----------  ---------  ------  -------  -----------  ---------------',
      '2026-11-27          7       3        1       33.3 %             2.33',
    ]);
    expect(await cli('query', 'traffic', ...range, '--format', 'csv')).toBe(
      'period,pageviews,visits,bounces,bounce_rate,pages_per_visit\r\n2026-11-27,7,3,1,0.3333,2.3333\r\n',
    );
    expect(JSON.parse(await cli('query', 'traffic', ...range, '--by', 'hour', '--format', 'json'))).toEqual([
      { period: '2026-11-27T10:00:00Z', pageviews: 7, visits: 3, bounces: 1, bounce_rate: 0.3333, pages_per_visit: 2.3333 },
    ]);
    // The default range (the last 24 hours) starts on a whole minute: no seconds, no milliseconds
    // (and in the one minute before midnight it starts on a midnight, which prints as a date).
    const [whole] = (await cli('query', 'traffic')).trim().split('\n').slice(2);
    expect(whole).toMatch(/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})? +7 +3 +1 +33\.3 % +2\.33$/);

    const wrong = await exited(spawnCli(['query', 'traffic', '--format', 'xml'], env));
    expect(wrong).toMatchObject({ code: 1, output: 'error: --format must be table, csv, json\n' });
  });
});

describe('cli query --format csv', () => {
  const site = 'csv.example'; // a site of its own in the same DuckDB file
  const day = ['--site', site, '--from', '2026-11-20', '--to', '2026-11-21'];
  const params = { site, from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z'), limit: 10 };
  const hostile = ['/a,b', '/say "hi"', '/line\nbreak', '=cmd|/C calc', '/ünïcödé'];
  const GOALS = ['signup', '/ünïcödé'];
  const FILTERING = { dimension: 'page', filters: { country: 'DE', browser: 'Firefox 128' } } as const;
  const exitedOk = async (args: string[], extra: Record<string, string>) => {
    const result = await exited(spawnCli(args, { ...env, ...extra }));
    expect(result.code, result.output).toBe(0);
    return result.output;
  };

  it('prints every query of the pack as RFC 4180 CSV with a header row, equal to the warehouse query', async () => {
    const warehouse = createDuckDBWarehouse({ path: env.DUCKDB_PATH });
    const count = (event: string, dimension: CounterRow['dimension'], value: string, n: number): CounterRow => ({ event, dimension, value, count: BigInt(n) });
    const expected = new Map<string, string>();
    try {
      await warehouse.migrate();
      await warehouse.load({
        batchId: 'csv-1',
        site,
        minute: new Date('2026-11-20T09:30:00Z'),
        counters: [
          count('pageview', 'total', '', 15),
          count('visit', 'total', '', 4),
          count('engaged_visit', 'total', '', 1),
          count('visit', 'entry_page', '/a,b', 4),
          count('engaged_visit', 'entry_page', '/a,b', 1),
          ...hostile.map((page, i) => count('pageview', 'page', page, i + 1)),
          count('pageview', 'referrer', 'news.example', 15),
          count('pageview', 'device', 'desktop', 15),
          count('pageview', 'utm_campaign', '=HYPERLINK("x")', 2),
          count('signup', 'total', '', 3),
          count('signup', 'referrer', 'news.example', 3),
          count('signup', 'page', '/a,b', 3),
          ...hostile.map((page, i) => count('pageview', 'combination', combination({ page, referrer: 'news.example', device: 'desktop', country: i % 2 ? 'DE' : 'FR', browser: 'Firefox 128', os: 'Linux' }), i + 1)),
        ],
        visitors: [],
      });
      for (const query of listQueries('duckdb')) {
        const goals = query.params.includes('goal') ? GOALS : undefined;
        const filtering = query.name.startsWith('filtered-') ? FILTERING : {};
        expected.set(query.name, formatRows(await runNamedQuery(warehouse, query.name, { ...params, goals, ...filtering }), 'csv', query.columns));
      }
    } finally {
      await warehouse.close();
    }

    for (const query of listQueries('duckdb')) {
      const goal = query.params.includes('goal') ? ['--goal', GOALS.join(',')] : [];
      const filtering = query.name.startsWith('filtered-') ? ['--dimension', 'page', '--filter', 'country=DE', '--filter', 'browser=Firefox 128'] : [];
      const csv = await cli('query', query.name, ...day, ...goal, ...filtering, '--format', 'csv');
      expect(csv, query.name).toBe(expected.get(query.name));
      expect(csv, query.name).toMatch(/\r\n$/);
      const [header, ...records] = parseCsv(csv);
      expect(header, query.name).toEqual(query.columns);
      expect(records.every((r) => r.length === header!.length), query.name).toBe(true);
    }
    // Quoting and formulas, read back with a strict RFC 4180 reader.
    expect(parseCsv(await cli('query', 'top-pages', ...day, '--format', 'csv'))).toEqual([
      ['page', 'pageviews'],
      ['/ünïcödé', '5'],
      ["'=cmd|/C calc", '4'],
      ['/line\nbreak', '3'],
      ['/say "hi"', '2'],
      ['/a,b', '1'],
    ]);
    // Pages viewed from DE with Firefox 128: the hostile ones at odd positions.
    expect(parseCsv(await cli('query', 'filtered-top', ...day, '--dimension', 'page', '--filter', 'country=DE', '--filter', 'browser=Firefox 128', '--format', 'csv'))).toEqual([
      ['value', 'pageviews'],
      ["'=cmd|/C calc", '4'],
      ['/say "hi"', '2'],
    ]);
    expect(parseCsv(await cli('query', 'top-campaigns', ...day, '--format', 'csv'))).toEqual([
      ['dimension', 'value', 'pageviews'],
      ['utm_campaign', "'=HYPERLINK(\"x\")", '2'],
    ]);
    // The goals come from GOALS unless --goal names others; a goal query needs one. The page
    // views' combinations here have no sketches, so converters, visitors and rate are NULL: empty.
    expect(parseCsv(await exitedOk(['query', 'goal-pages', ...day, '--format', 'csv'], { GOALS: 'signup' }))).toEqual([
      ['goal', 'page', 'conversions', 'converters', 'visitors', 'conversion_rate'],
      ['signup', '/a,b', '3', '', '', ''],
    ]);
    expect(await exited(spawnCli(['query', 'goals', ...day], env))).toMatchObject({
      code: 1,
      output: 'error: query "goals" needs a goal: a custom event name or a page path (GOALS, one added on the dashboard, or --goal)\n',
    });
    expect(await exited(spawnCli(['query', 'goals', ...day, '--goal', 'pageview'], env))).toMatchObject({
      code: 1,
      output: expect.stringMatching(/^error: --goal: "pageview" is every page view, not a goal/),
    });
    expect(await exited(spawnCli(['query', 'goals', ...day], { ...env, GOALS: 'sign up' }))).toMatchObject({
      code: 1,
      output: expect.stringMatching(/^error: GOALS: "sign up" is neither a page path/),
    });
    // Bad filters and dimensions: one line each, nothing run.
    for (const [args, output] of [
      [['--dimension', 'page', '--filter', 'city=Berlin'], 'error: --filter: cannot filter by "city": filters are on page, referrer, device, country, browser, os, utm_source, utm_medium, utm_campaign\n'],
      [['--dimension', 'page', '--filter', 'country='], 'error: --filter: the country filter must be a value of 1 to 2048 characters without control characters\n'],
      [['--dimension', 'page', '--filter', 'os=Linux', '--filter', 'os=iOS'], 'error: --filter: os is filtered twice; give one value\n'],
      [['--dimension', 'region'], 'error: --dimension must be one of page, referrer, device, country, browser, os, utm_source, utm_medium, utm_campaign\n'],
      [[], 'error: query "filtered-top" needs a dimension to break down by: one of page, referrer, device, country, browser, os, utm_source, utm_medium, utm_campaign\n'],
    ] as const) {
      expect(await exited(spawnCli(['query', 'filtered-top', ...day, ...args], env))).toMatchObject({ code: 1, output });
    }
    // A goal added on the dashboard (stored in the warehouse) comes after those of GOALS.
    const stored = createDuckDBWarehouse({ path: env.DUCKDB_PATH });
    try {
      await storeGoal(stored, site, '/ünïcödé');
    } finally {
      await stored.close();
    }
    expect(parseCsv(await exitedOk(['query', 'goal-pages', ...day, '--format', 'csv'], { GOALS: 'signup' }))).toEqual([
      ['goal', 'page', 'conversions', 'converters', 'visitors', 'conversion_rate'],
      ['signup', '/a,b', '3', '', '', ''],
      ['/ünïcödé', '/ünïcödé', '5', '', '', ''],
    ]);
    // No rows in the range: the header row alone.
    expect(await cli('query', 'top-pages', '--site', site, '--from', '2020-01-01', '--to', '2020-01-02', '--format', 'csv')).toBe('page,pageviews\r\n');
  });
});

describe('cli flush progress', () => {
  it('prints a plain line per tenth of a 30-minute backlog, then the summary', async () => {
    const store = new AnalyticsStore(redis, { prefix });
    const first = minuteOf(Date.now()) - 2 * 3_600_000;
    const events: EventWrite[] = Array.from({ length: 30 * 4 }, (_, i) => ({
      site: SITE,
      event: 'pageview',
      path: `/p/${i % 7}`,
      referrer: '(direct)',
      device: 'desktop',
      visitorId: `v${i}`,
      receivedAt: first + Math.floor(i / 4) * 60_000 + 1_000,
    }));
    await store.track(events);

    const lines = (await cli('flush')).trim().split('\n');
    const progress = lines.filter((l) => l.startsWith('flushing: '));
    expect(progress.map((l) => /^flushing: (\d+)\/30 minutes/.exec(l)?.[1])).toEqual(['3', '6', '9', '12', '15', '18', '21', '24', '27', '30']);
    expect(progress.every((l) => /minutes \(\d+ %\), [\d,]+ rows\/s(, about .+ left)?$/.test(l))).toBe(true);
    expect(progress.at(-1)).toMatch(/^flushing: 30\/30 minutes \(100 %\), [\d,]+ rows\/s$/);
    expect(lines.at(-1)).toMatch(/^flushed 30 minute\(s\), 30 batch\(es\) \(0 already loaded\), .* 120 events in \d+ ms$/);
    expect(lines).toHaveLength(11);
  });
});
