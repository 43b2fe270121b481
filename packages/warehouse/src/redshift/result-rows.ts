/**
 * GetStatementResult records to the rows every adapter returns. Decisions:
 * - integers: `longValue` is a JS number; a column of an integer or numeric type sent as a
 *   string (above 2^53, or a numeric sum) becomes a number when exact, else stays a string,
 *   as the PostgreSQL adapter does;
 * - `timestamp` columns arrive as `YYYY-MM-DD HH:MM:SS[.ffffff]` strings in UTC and become
 *   Dates; `timestamptz` keeps its offset;
 * - `varbyte` arrives as `blobValue` (a Uint8Array from the SDK) or as hex text; both become a
 *   Uint8Array.
 */
import type { ColumnMetadata, Field } from '@aws-sdk/client-redshift-data';
import type { QueryRow } from '../warehouse.js';

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8', 'smallint', 'integer', 'bigint', 'numeric', 'decimal']);
const BYTE_TYPES = new Set(['varbyte', 'varbinary', 'binary varying', 'bytea']);

export function toRows(columns: ColumnMetadata[], records: Field[][]): QueryRow[] {
  const names = columns.map((c, i) => c.label ?? c.name ?? `column${i + 1}`);
  const types = columns.map((c) => (c.typeName ?? '').toLowerCase());
  return records.map((record) => {
    const row: QueryRow = {};
    record.forEach((field, i) => {
      row[names[i] ?? `column${i + 1}`] = fieldValue(field, types[i] ?? '');
    });
    return row;
  });
}

export function fieldValue(field: Field, typeName: string): unknown {
  if (field.isNull) return null;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return field.blobValue;
  const text = field.stringValue;
  if (text === undefined) return null;
  if (INTEGER_TYPES.has(typeName)) return exactInteger(text);
  if (typeName === 'timestamp') return new Date(`${text.replace(' ', 'T')}Z`);
  if (typeName === 'timestamptz') return new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  if (BYTE_TYPES.has(typeName) && /^(?:[0-9a-f]{2})*$/i.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  return text;
}

function exactInteger(text: string): number | string {
  const n = Number(text);
  return /^-?\d+$/.test(text) && Number.isSafeInteger(n) ? n : text;
}
