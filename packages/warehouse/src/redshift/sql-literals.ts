/**
 * How values enter Redshift SQL text. Loads put every value in an escaped literal (a
 * BatchExecuteStatement shares one `Parameters` list across all its statements and rows number
 * in the thousands); queries bind `:name` parameters through the Data API. Nothing is ever
 * concatenated raw.
 */
import type { QueryParams } from '../warehouse.js';
import { WarehouseError } from '../errors.js';

/**
 * A string literal that reads the same on Redshift and on PostgreSQL. Quotes are doubled.
 * Backslashes never appear inside the quotes: Redshift treats `\` in a literal as an escape
 * character while PostgreSQL (standard_conforming_strings) does not, so each one is spliced in
 * as `chr(92)`. `$$`, `:name` and unicode are plain characters inside a literal. NUL cannot be
 * stored in a Redshift VARCHAR and is refused.
 */
export function sqlString(value: string): string {
  if (value.includes('\0')) throw new WarehouseError('WAREHOUSE_LOAD', 'a value contains a NUL character, which Redshift cannot store');
  const parts = value.split('\\').map((part) => `'${part.replaceAll("'", "''")}'`);
  return parts.length === 1 ? parts[0]! : `(${parts.join('||chr(92)||')})`;
}

/** A VARBYTE literal: hex digits only, so nothing needs escaping. */
export function sqlBytes(bytes: Uint8Array): string {
  return `from_hex('${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}')`;
}

/** A TIMESTAMP literal of a UTC instant (Redshift sessions are UTC). */
export function sqlTimestamp(date: Date): string {
  return `CAST('${dataApiTimestamp(date)}' AS TIMESTAMP)`;
}

/** An integer literal; `bigint` keeps counts above 2^53 exact. */
export function sqlInteger(value: bigint | number): string {
  const text = typeof value === 'bigint' ? value.toString() : String(value);
  if (!/^-?\d+$/.test(text)) throw new WarehouseError('WAREHOUSE_LOAD', `not an integer: ${text}`);
  return text;
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the form Redshift casts to TIMESTAMP. */
export function dataApiTimestamp(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new WarehouseError('WAREHOUSE_QUERY', 'invalid date parameter');
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export interface DataApiStatement {
  sql: string;
  /** Absent when no parameter needs binding (the Data API rejects an empty list). */
  parameters?: { name: string; value: string }[];
}

// As named-params.ts: `:name` not preceded by another colon (casts like `x::date`), outside
// quotes and comments; `LIMIT :name` / `OFFSET :name` apart.
const NAMED = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\b(LIMIT|OFFSET)(\s+):([A-Za-z_][A-Za-z0-9_]*)|(?<!:):([A-Za-z_][A-Za-z0-9_]*)/gi;

/** The largest LIMIT or OFFSET a query may ask for. */
const MAX_ROW_COUNT = 1_000_000_000;

/**
 * Binds the query pack's `:name` parameters for ExecuteStatement. A Data API parameter value
 * must be a non-empty string, so `null` becomes the constant `NULL` and `''` the constant `''`
 * in the SQL text (constants, never caller text); everything else is sent as a parameter:
 * dates as UTC timestamps, numbers and booleans as their text. The Data API documents
 * parameters as values only, so `LIMIT :name` and `OFFSET :name` become integer literals,
 * checked to be whole numbers from 0 to 1,000,000,000.
 */
export function compileDataApiParams(sql: string, params: QueryParams): DataApiStatement {
  const bound = new Map<string, string>();
  const valueOf = (name: string) => {
    if (!(name in params)) throw new WarehouseError('WAREHOUSE_QUERY', `query parameter :${name} is missing`);
    return params[name];
  };
  const text = sql.replace(
    NAMED,
    (match, clause: string | undefined, space: string | undefined, rowCountName: string | undefined, name: string | undefined) => {
      if (rowCountName !== undefined) return `${clause}${space}${rowCountLiteral(rowCountName, valueOf(rowCountName), clause!)}`;
      if (name === undefined) return match;
      const value = valueOf(name);
      if (value === null || value === undefined) return 'NULL';
      if (value === '') return "''";
      bound.set(name, parameterText(name, value));
      return match;
    },
  );
  if (bound.size === 0) return { sql: text };
  return { sql: text, parameters: [...bound].map(([name, value]) => ({ name, value })) };
}

function rowCountLiteral(name: string, value: unknown, clause: string): string {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ROW_COUNT) {
    throw new WarehouseError('WAREHOUSE_QUERY', `query parameter :${name} of ${clause.toUpperCase()} must be a whole number from 0 to ${MAX_ROW_COUNT}`);
  }
  return String(value);
}

function parameterText(name: string, value: string | number | boolean | Date): string {
  if (value instanceof Date) return dataApiTimestamp(value);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new WarehouseError('WAREHOUSE_QUERY', `query parameter :${name} is not a finite number`);
  }
  return String(value);
}
