import { describe, expect, it } from 'vitest';
import { formatRows, formatTime } from '../src/query-output.js';

const hour = (h: number) => new Date(Date.UTC(2026, 10, 27, h));
const rows = [
  { period: hour(10), pageviews: 1234, bounce_rate: 1 / 3, pages_per_visit: 7 / 3, page: '/pricing' },
  { period: hour(11), pageviews: 5, bounce_rate: 0.5, pages_per_visit: 2, page: '/a, "quoted"\npath' },
];

describe('query output formats (the CLI and the dashboard downloads)', () => {
  it('table: ratios as rounded percentages, periods as hours, numbers right-aligned', () => {
    expect(formatRows(rows.slice(0, 1), 'table').split('\n')).toEqual([
      'period            pageviews  bounce_rate  pages_per_visit  page',
      '----------------  ---------  -----------  ---------------  --------',
      '2026-11-27 10:00       1234       33.3 %             2.33  /pricing',
    ]);
    expect(formatRows([], 'table')).toBe('(no rows)');
  });

  it('periods that are all midnights print as dates; other times without milliseconds', () => {
    const days = [{ period: new Date(Date.UTC(2026, 10, 27)) }, { period: new Date(Date.UTC(2026, 10, 28)) }];
    expect(formatRows(days, 'table').split('\n').slice(2)).toEqual(['2026-11-27', '2026-11-28']);
    expect(formatRows(days, 'csv')).toBe('period\r\n2026-11-27\r\n2026-11-28\r\n');
    expect(formatTime(new Date(Date.UTC(2026, 10, 27, 10, 23, 45, 678)))).toBe('2026-11-27 10:23:45');
  });

  it('csv: RFC 4180 quoting, ratios as numbers, formulas neutralised', () => {
    expect(formatRows(rows, 'csv').split('\r\n')).toEqual([
      'period,pageviews,bounce_rate,pages_per_visit,page',
      '2026-11-27 10:00,1234,0.3333,2.3333,/pricing',
      '2026-11-27 11:00,5,0.5,2,"/a, ""quoted""\npath"',
      '',
    ]);
    const hostile = formatRows([{ utm_campaign: '=HYPERLINK("http://x")', n: -1 }], 'csv');
    expect(hostile).toBe('utm_campaign,n\r\n"\'=HYPERLINK(""http://x"")",-1\r\n');
    // No rows: the header row of the query's declared columns, or nothing when none are known.
    expect(formatRows([], 'csv', ['page', 'pageviews'])).toBe('page,pageviews\r\n');
    expect(formatRows([], 'csv')).toBe('');
  });

  it('json: one array of objects, times in ISO 8601 without milliseconds, ratios rounded', () => {
    expect(JSON.parse(formatRows(rows, 'json'))).toEqual([
      { period: '2026-11-27T10:00:00Z', pageviews: 1234, bounce_rate: 0.3333, pages_per_visit: 2.3333, page: '/pricing' },
      { period: '2026-11-27T11:00:00Z', pageviews: 5, bounce_rate: 0.5, pages_per_visit: 2, page: '/a, "quoted"\npath' },
    ]);
    expect(formatRows([], 'json')).toBe('[]');
    // Drivers may return numeric text; ratios are still ratios, nulls stay null.
    expect(JSON.parse(formatRows([{ bounce_rate: '0.25', x: null }], 'json'))).toEqual([{ bounce_rate: 0.25, x: null }]);
  });
});
