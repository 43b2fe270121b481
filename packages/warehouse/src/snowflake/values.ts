/**
 * Values across the driver boundary, both ways.
 *
 * Binds: the driver sends a JS string as TEXT, an integer as FIXED, another number as REAL and a
 * boolean as BOOLEAN. A `Date` becomes the UTC wall-clock text `YYYY-MM-DD HH:MM:SS.mmm`, which
 * Snowflake casts to TIMESTAMP_NTZ without any time zone involved; a bigint its decimal text.
 *
 * Results (statements run with `fetchAsString: ['Number']`):
 * - NUMBER with scale 0 → number when a safe integer, else its decimal string;
 *   NUMBER with a scale and FLOAT → number when it prints back to the same value, else string.
 * - TIMESTAMP_NTZ, DATE → a plain `Date` (UTC, milliseconds; the driver reads the epoch value).
 * - BINARY → Uint8Array. VARIANT/OBJECT/ARRAY → the parsed JSON. TEXT, BOOLEAN → as is.
 * - Column names: Snowflake reports unquoted identifiers upper-cased; an all-upper-case name is
 *   lower-cased so `SELECT count(*) AS n` gives `n` as on the other adapters. A quoted
 *   mixed-case alias keeps its case.
 */
import type { Bind, Column } from 'snowflake-sdk';
import type { QueryRow, QueryValue } from '../warehouse.js';
import { WarehouseError } from '../errors.js';

export function toBind(value: QueryValue | bigint | undefined): Bind {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return utcWallClock(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** `2026-03-01 10:07:00.000`: the UTC wall-clock time, for TIMESTAMP_NTZ. */
export function utcWallClock(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new WarehouseError('WAREHOUSE_QUERY', 'invalid date parameter');
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export function toQueryRows(rows: Array<Record<string, unknown>>, columns: Column[]): QueryRow[] {
  const converters = columns.map((column) => ({
    source: column.getName(),
    target: /[a-z]/.test(column.getName()) ? column.getName() : column.getName().toLowerCase(),
    convert: converterFor(column),
  }));
  return rows.map((row) => {
    const out: QueryRow = {};
    for (const { source, target, convert } of converters) {
      const value = row[source];
      out[target] = value === null || value === undefined ? null : convert(value);
    }
    return out;
  });
}

function converterFor(column: Column): (value: unknown) => unknown {
  if (column.isNumber()) {
    const integer = column.getType() === 'fixed' && (column.getScale() ?? 0) === 0;
    return (value) => (integer ? exactInteger(String(value)) : exactDecimal(String(value)));
  }
  if (column.isDate() || column.isTimestamp()) return (value) => new Date((value as Date).getTime());
  if (column.isBinary()) {
    return (value) => {
      const bytes = value as Uint8Array;
      return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
  }
  return (value) => value;
}

function exactInteger(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function exactDecimal(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text === 'NaN' || /inf/i.test(text) ? n : text;
  return Number(String(n)) === n && sameDecimal(String(n), text) ? n : text;
}

/** `1.50` and `1.5` are the same decimal; `0.30000000000000004` and `0.3` are not. */
function sameDecimal(a: string, b: string): boolean {
  const normal = (s: string) => {
    if (/e/i.test(s)) return String(Number(s));
    const [whole = '', fraction = ''] = s.replace(/^\+/, '').split('.');
    const w = whole.replace(/^(-?)0+(?=\d)/, '$1');
    const f = fraction.replace(/0+$/, '');
    return f ? `${w}.${f}` : w === '-0' ? '0' : w;
  };
  return normal(a) === normal(b);
}
