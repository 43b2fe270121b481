import { describe, expect, it } from 'vitest';
import { InvalidRange, resolveRange } from '../src/date-range.js';

/** 10:30:20 UTC on Tuesday 15 October 2024 (a leap year: the last 12 months hold 29 February). */
const NOW = Date.UTC(2024, 9, 15, 10, 30, 20);
const iso = (d: Date) => d.toISOString().replace(':00.000Z', '').replace('T00:00', '');
const resolved = (range: string | null, from?: string, to?: string) => {
  const r = resolveRange({ range, from, to }, NOW);
  return { preset: r.preset, from: iso(r.from), to: iso(r.to), previous: [iso(r.previous.from), iso(r.previous.to)], by: r.by };
};

describe('dashboard date ranges', () => {
  it.each([
    // The elapsed part ends with the current minute (10:31); the previous period ends as far into its own span.
    ['today', '2024-10-15', '2024-10-16', ['2024-10-14', '2024-10-14T10:31'], 'hour'],
    ['yesterday', '2024-10-14', '2024-10-15', ['2024-10-13', '2024-10-14'], 'hour'],
    ['7d', '2024-10-09', '2024-10-16', ['2024-10-02', '2024-10-08T10:31'], 'day'],
    ['30d', '2024-09-16', '2024-10-16', ['2024-08-17', '2024-09-15T10:31'], 'day'],
    ['this-month', '2024-10-01', '2024-11-01', ['2024-08-31', '2024-09-14T10:31'], 'day'],
    ['last-month', '2024-09-01', '2024-10-01', ['2024-08-02', '2024-09-01'], 'day'],
    // 366 days back: the range holds 29 February.
    ['12mo', '2023-11-01', '2024-11-01', ['2022-10-31', '2023-10-15T10:31'], 'day'],
  ])('%s', (range, from, to, previous, by) => {
    expect(resolved(range)).toEqual({ preset: range, from, to, previous, by });
  });

  it('takes custom from and to (to exclusive), and defaults to the last 30 days', () => {
    expect(resolved('custom', '2024-03-01', '2024-03-08')).toEqual({ preset: 'custom', from: '2024-03-01', to: '2024-03-08', previous: ['2024-02-23', '2024-03-01'], by: 'day' });
    expect(resolved(null, '2024-03-01T10:00', '2024-03-01T12:00Z')).toMatchObject({ preset: 'custom', previous: ['2024-03-01T08:00', '2024-03-01T10:00'], by: 'hour' });
    expect(resolved(null)).toMatchObject({ preset: '30d', from: '2024-09-16', to: '2024-10-16' });
    expect(resolved('', undefined, '2024-10-01')).toMatchObject({ preset: 'custom', from: '2024-09-01', to: '2024-10-01' });
  });

  it.each([
    ['fortnight', undefined, undefined, /^range must be one of today, yesterday, 7d, 30d, this-month, last-month, 12mo, custom$/],
    ['custom', '2024-03-08', '2024-03-01', /from must be before to/],
    ['custom', '2024-03-01', '2024-03-01', /from must be before to/],
    ['custom', '2022-01-01', '2024-01-01', /at most 366 days apart/],
    ['custom', 'yesterday', undefined, /ISO-8601/],
    ['custom', '2024-03-01', '2024-13-45', /ISO-8601/],
    ['custom', '2024-03-01T10:00+02:00', undefined, /ISO-8601/],
  ])('refuses range=%s from=%s to=%s', (range, from, to, message) => {
    expect(() => resolveRange({ range, from, to }, NOW)).toThrow(InvalidRange);
    expect(() => resolveRange({ range, from, to }, NOW)).toThrow(message);
  });
});
