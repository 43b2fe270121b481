/**
 * The dashboard's date ranges: presets resolved against the tracker's clock, or explicit times,
 * and the previous period each is compared with. All in UTC, like the warehouse's minutes.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Presets of `range=`; `custom` takes `from` and `to`. */
export const RANGE_PRESETS = ['today', 'yesterday', '7d', '30d', 'this-month', 'last-month', '12mo', 'custom'] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];

/** Longest range, days: a year (12 calendar months are at most 366 days). */
export const MAX_RANGE_DAYS = 366;

export interface DateRange {
  preset: RangePreset;
  /** Inclusive start. */
  from: Date;
  /** Exclusive end (may lie in the future: the rest of today, of this month). */
  to: Date;
  /**
   * The period just as long before it, for the comparison: the range moved back by its own
   * length, ending as far before `now` as the range's elapsed part does (today until 10:00 is
   * compared with yesterday until 10:00; the last 7 days with the 7 days before, up to the same
   * time of day). A range wholly in the past is compared with the one that ends where it starts.
   */
  previous: { from: Date; to: Date };
  /** Granularity of the chart: hours up to two days, else days. */
  by: 'hour' | 'day';
}

export class InvalidRange extends Error {
  readonly code = 'invalid_range';
}

/**
 * Reads `range`, `from` and `to` of a request. Without `range`, `from` and `to` (ISO 8601 dates
 * or UTC times, `to` exclusive) make a custom range, defaulting to the 30 days ending today.
 * Throws InvalidRange with a message for people.
 */
export function resolveRange(params: { range?: string | null; from?: string | null; to?: string | null }, now: number): DateRange {
  const today = Math.floor(now / DAY) * DAY;
  const month = (offset: number) => {
    const d = new Date(today);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
  };
  const name = params.range || (params.from || params.to ? 'custom' : '30d');
  let from: number;
  let to: number;
  switch (name) {
    case 'today':
      [from, to] = [today, today + DAY];
      break;
    case 'yesterday':
      [from, to] = [today - DAY, today];
      break;
    case '7d':
      [from, to] = [today - 6 * DAY, today + DAY];
      break;
    case '30d':
      [from, to] = [today - 29 * DAY, today + DAY];
      break;
    case 'this-month':
      [from, to] = [month(0), month(1)];
      break;
    case 'last-month':
      [from, to] = [month(-1), month(0)];
      break;
    case '12mo':
      [from, to] = [month(-11), month(1)];
      break;
    case 'custom': {
      const end = parseTime(params.to) ?? today + DAY;
      const start = parseTime(params.from) ?? end - 30 * DAY;
      [from, to] = [start, end];
      break;
    }
    default:
      throw new InvalidRange(`range must be one of ${RANGE_PRESETS.join(', ')}`);
  }
  if (!(from < to) || to - from > MAX_RANGE_DAYS * DAY) {
    throw new InvalidRange(`from must be before to, at most ${MAX_RANGE_DAYS} days apart`);
  }
  const length = to - from;
  const elapsedEnd = Math.min(to, Math.ceil(now / MINUTE) * MINUTE);
  const previousTo = Math.max(from, elapsedEnd) - length;
  return {
    preset: name as RangePreset,
    from: new Date(from),
    to: new Date(to),
    previous: { from: new Date(from - length), to: new Date(previousTo) },
    by: length <= 2 * DAY ? 'hour' : 'day',
  };
}

/** `2026-11-27`, `2026-11-27T10:00`, `…:00`, `…:00.000`, with or without `Z`: UTC. */
function parseTime(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || text === '') return undefined;
  const valid = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z?)?$/.test(text);
  const time = valid ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text.endsWith('Z') ? text : `${text}Z`) : NaN;
  if (Number.isNaN(time)) throw new InvalidRange('from and to must be ISO-8601 dates or UTC times such as 2026-11-27 or 2026-11-27T10:00');
  return time;
}
