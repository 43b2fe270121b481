/**
 * How query rows are printed, by the CLI (`pnpm cli query … --format F`) and by the dashboard's
 * CSV downloads, which therefore give the same file: an aligned table for people, CSV for
 * spreadsheets (RFC 4180: a header row, every record ended by CRLF, fields quoted when they
 * hold a comma, quote or line break), JSON (one array of objects) for jq. Times are UTC. A
 * column whose name ends in `_rate` is a ratio: `33.3 %` in the table, the ratio rounded to 4
 * decimals in CSV and JSON.
 *
 * Kept apart from the adapters (`@rta/warehouse/query-output` loads no driver), so the CLI's
 * quick commands can print without loading one.
 */
export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

type Row = Record<string, unknown>;

/**
 * Prints `rows`. `columns` (a query's declared columns, see `QueryPackEntry.columns`) names the
 * header when there are no rows to take it from; rows print with their own keys, in order.
 */
export function formatRows(rows: readonly Row[], format: OutputFormat, columns: readonly string[] = []): string {
  if (rows.length > 0) columns = Object.keys(rows[0]!);
  const kinds = new Map(columns.map((c) => [c, columnKind(c, rows)]));
  switch (format) {
    case 'table':
      return table(columns, rows, kinds);
    case 'csv':
      return columns.length === 0
        ? ''
        : [columns, ...rows.map((row) => columns.map((c) => textCell(row[c], kinds.get(c)!, 'csv')))].map((fields) => `${csvLine(fields)}\r\n`).join('');
    case 'json':
      return JSON.stringify(
        rows.map((row) => Object.fromEntries(columns.map((c) => [c, jsonCell(row[c], kinds.get(c)!)]))),
        null,
        2,
      );
  }
}

/** Whether `text` names an output format; the callers' errors name their own flag or parameter. */
export function isOutputFormat(text: string): text is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(text);
}

type ColumnKind = 'ratio' | 'date' | 'time' | 'other';

/** A column is a ratio by name, a date when each of its times is a midnight, else a time. */
function columnKind(column: string, rows: readonly Row[]): ColumnKind {
  if (column.endsWith('_rate')) return 'ratio';
  const times = rows.map((row) => row[column]).filter((v): v is Date => v instanceof Date);
  if (times.length === 0) return 'other';
  return times.every((t) => t.getTime() % 86_400_000 === 0) ? 'date' : 'time';
}

function table(columns: readonly string[], rows: readonly Row[], kinds: Map<string, ColumnKind>): string {
  if (rows.length === 0) return '(no rows)';
  const cells = rows.map((row) => columns.map((c) => textCell(row[c], kinds.get(c)!, 'table')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const rightAligned = columns.map((c) => kinds.get(c) === 'ratio' || rows.every((row) => isNumeric(row[c])));
  const line = (values: readonly string[]) =>
    values.map((v, i) => (rightAligned[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

function textCell(value: unknown, kind: ColumnKind, format: 'table' | 'csv'): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return formatTime(value, kind === 'date');
  if (value instanceof Uint8Array) return format === 'table' ? `<${value.length} bytes>` : Buffer.from(value).toString('base64');
  if (kind === 'ratio' && isNumeric(value)) {
    return format === 'table' ? `${(Number(value) * 100).toFixed(1)} %` : String(round(Number(value), 4));
  }
  if (typeof value === 'number' && !Number.isInteger(value)) return String(round(value, format === 'table' ? 2 : 4));
  return String(value);
}

function jsonCell(value: unknown, kind: ColumnKind): unknown {
  if (value === undefined) return null;
  // ISO 8601 without milliseconds: what jq's `fromdate` reads.
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  if (kind === 'ratio' && isNumeric(value)) return round(Number(value), 4);
  if (typeof value === 'number' && !Number.isInteger(value)) return round(value, 4);
  return value;
}

/** `2026-11-27` for a date, `2026-11-27 10:00` for a time (seconds only when not zero), UTC. */
export function formatTime(time: Date, dateOnly = false): string {
  const iso = time.toISOString();
  if (dateOnly) return iso.slice(0, 10);
  const seconds = iso.slice(17, 23) === '00.000' ? '' : `:${iso.slice(17, 19)}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${seconds}`;
}

function isNumeric(value: unknown): boolean {
  return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
}

function round(n: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(n * factor) / factor;
}

/**
 * One CSV record. Fields holding a comma, quote or line break are quoted (quotes doubled); text
 * that a spreadsheet would run as a formula (starting with = + - @, tab or CR: page paths and
 * UTM values come from visitors) gets a leading apostrophe.
 */
function csvLine(fields: readonly string[]): string {
  return fields
    .map((field) => {
      const safe = /^[=+\-@\t\r]/.test(field) && !isNumeric(field) ? `'${field}` : field;
      return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
    })
    .join(',');
}
