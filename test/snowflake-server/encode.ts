/**
 * DuckDB results → Snowflake JSON result sets (reference §2.4): a `rowtype` entry per column and
 * every cell a string or null, encoded the way the Node driver decodes it:
 *
 * | DuckDB                         | rowtype          | cell                                   |
 * |--------------------------------|------------------|----------------------------------------|
 * | integers, HUGEINT              | fixed, scale 0   | decimal string                         |
 * | DECIMAL(p,s)                   | fixed, scale s   | decimal string                         |
 * | FLOAT, DOUBLE                  | real             | JS number text                         |
 * | BOOLEAN                        | boolean          | `"1"` / `"0"`                          |
 * | VARCHAR                        | text             | the string                             |
 * | BLOB                           | binary           | upper-case hex                         |
 * | DATE                           | date             | days since 1970-01-01                  |
 * | TIME                           | time, scale 9    | seconds since midnight, 9 decimals     |
 * | TIMESTAMP[_S/_MS/_NS]          | timestamp_ntz, 9 | epoch seconds, 9 decimals              |
 * | TIMESTAMPTZ                    | timestamp_ltz, 9 | epoch seconds, 9 decimals              |
 * | JSON, LIST, STRUCT, MAP        | variant          | JSON text                              |
 *
 * Column names are upper-cased, as Snowflake reports unquoted identifiers.
 */
import {
  DuckDBTypeId,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalType,
  type DuckDBDecimalValue,
  type DuckDBResultReader,
  type DuckDBTimeValue,
  type DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

export interface RowType {
  name: string;
  type: string;
  nullable: boolean;
  scale: number | null;
  precision: number | null;
  length: number | null;
  byteLength: number | null;
  database: string;
  schema: string;
  table: string;
  collation: null;
}

export interface EncodedResult {
  rowtype: RowType[];
  rowset: Array<Array<string | null>>;
}

type Encoder = (value: DuckDBValue, json: unknown) => string;

interface ColumnCodec {
  type: string;
  scale: number | null;
  precision: number | null;
  encode: Encoder;
}

const text: Encoder = (v) => String(v);

/** Epoch units → `seconds.nnnnnnnnn`, exact (BigInt arithmetic, floor division for negatives). */
export function epochFraction(value: bigint, unitsPerSecond: bigint): string {
  let seconds = value / unitsPerSecond;
  let rest = value % unitsPerSecond;
  if (rest < 0n) {
    seconds -= 1n;
    rest += unitsPerSecond;
  }
  const nanos = (rest * 1_000_000_000n) / unitsPerSecond;
  return `${seconds}.${nanos.toString().padStart(9, '0')}`;
}

function codecFor(type: DuckDBType): ColumnCodec {
  const fixed = (scale: number, precision = 38): ColumnCodec => ({ type: 'fixed', scale, precision, encode: text });
  if (type.alias === 'JSON') return { type: 'variant', scale: null, precision: null, encode: (v) => String(v) };
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return fixed(0);
    case DuckDBTypeId.DECIMAL: {
      const decimal = type as DuckDBDecimalType;
      return { ...fixed(decimal.scale, decimal.width), encode: (v) => (v as DuckDBDecimalValue).toString() };
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { type: 'real', scale: null, precision: null, encode: text };
    case DuckDBTypeId.BOOLEAN:
      return { type: 'boolean', scale: null, precision: null, encode: (v) => (v ? '1' : '0') };
    case DuckDBTypeId.VARCHAR:
      return { type: 'text', scale: null, precision: null, encode: text };
    case DuckDBTypeId.BLOB:
      return {
        type: 'binary',
        scale: null,
        precision: null,
        encode: (v) => Buffer.from((v as DuckDBBlobValue).bytes).toString('hex').toUpperCase(),
      };
    case DuckDBTypeId.DATE:
      return { type: 'date', scale: null, precision: null, encode: (v) => String((v as DuckDBDateValue).days) };
    case DuckDBTypeId.TIME:
      return {
        type: 'time',
        scale: 9,
        precision: 0,
        encode: (v) => epochFraction((v as DuckDBTimeValue).micros, 1_000_000n),
      };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return {
        type: type.typeId === DuckDBTypeId.TIMESTAMP ? 'timestamp_ntz' : 'timestamp_ltz',
        scale: 9,
        precision: 0,
        encode: (v) => epochFraction((v as DuckDBTimestampValue).micros, 1_000_000n),
      };
    case DuckDBTypeId.TIMESTAMP_S:
      return { type: 'timestamp_ntz', scale: 9, precision: 0, encode: (v) => epochFraction((v as { seconds: bigint }).seconds, 1n) };
    case DuckDBTypeId.TIMESTAMP_MS:
      return { type: 'timestamp_ntz', scale: 9, precision: 0, encode: (v) => epochFraction((v as { millis: bigint }).millis, 1000n) };
    case DuckDBTypeId.TIMESTAMP_NS:
      return { type: 'timestamp_ntz', scale: 9, precision: 0, encode: (v) => epochFraction((v as { nanos: bigint }).nanos, 1_000_000_000n) };
    default:
      // LIST, STRUCT, MAP, UUID, INTERVAL…: JSON text of DuckDB's JSON form of the value.
      return { type: 'variant', scale: null, precision: null, encode: (_v, json) => JSON.stringify(json) };
  }
}

/** A `rowtype` entry; the test server reports no lengths, source table or collation. */
function column(name: string, type: string, nullable: boolean, scale: number | null, precision: number | null): RowType {
  return { name, type, nullable, scale, precision, length: null, byteLength: null, database: '', schema: '', table: '', collation: null };
}

export function encodeResult(reader: DuckDBResultReader): EncodedResult {
  const names = reader.columnNames();
  const codecs = reader.columnTypes().map(codecFor);
  const needsJson = codecs.some((c) => c.type === 'variant');
  const jsonRows = needsJson ? reader.getRowsJson() : [];
  const rowtype = codecs.map((codec, i) => column(names[i]!.toUpperCase(), codec.type, true, codec.scale, codec.precision));
  const rowset = reader.getRows().map((row, r) =>
    row.map((value, c) => (value === null ? null : codecs[c]!.encode(value, jsonRows[r]?.[c]))),
  );
  return { rowtype, rowset };
}

/** A DML result: one row whose columns the driver adds up in `getNumUpdatedRows()`. */
export function dmlResult(columns: Array<[name: string, count: number]>): EncodedResult {
  return {
    rowtype: columns.map(([name]) => column(name, 'fixed', false, 0, 19)),
    rowset: [columns.map(([, count]) => String(count))],
  };
}

/** A status message result, as Snowflake returns for DDL and transaction statements. */
export function statusResult(message: string): EncodedResult {
  return {
    rowtype: [{ name: 'status', type: 'text', nullable: false, scale: null, precision: null, length: 16777216, byteLength: 16777216, database: '', schema: '', table: '', collation: null }],
    rowset: [[message]],
  };
}
