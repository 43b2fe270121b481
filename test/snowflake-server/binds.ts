/**
 * Snowflake query-request `bindings` → DuckDB prepared-statement binds.
 *
 * Wire shape (reference §2.4): `{"1": {"type": "FIXED", "value": "1"}, …}`, 1-based keys, every
 * value a string or null; with an array bind every `value` is a per-row list of those.
 * Types the Node driver sends: TEXT, FIXED, REAL, BOOLEAN, VARIANT (JSON text). A `Date` arrives
 * as TEXT (its ISO string), which DuckDB casts where the column or comparison needs a timestamp.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  HUGEINT,
  LIST,
  VARCHAR,
  listValue,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

export type WireValue = string | null;
export interface WireBinding {
  type: string;
  value: WireValue | WireValue[];
}
export type WireBindings = Record<string, WireBinding>;

export class BindError extends Error {}

/** Binds in position order; throws BindError on a gap or an unknown type. */
export function orderedBindings(bindings: WireBindings | undefined): WireBinding[] {
  if (!bindings) return [];
  const keys = Object.keys(bindings).map(Number).sort((a, b) => a - b);
  keys.forEach((key, i) => {
    if (key !== i + 1) throw new BindError(`bind variable ${i + 1} is missing`);
  });
  return keys.map((key) => bindings[String(key)]!);
}

export function isArrayBind(bindings: WireBinding[]): boolean {
  return bindings.length > 0 && bindings.every((b) => Array.isArray(b.value));
}

export function arrayBindRowCount(bindings: WireBinding[]): number {
  const lengths = new Set(bindings.map((b) => (b.value as WireValue[]).length));
  if (lengths.size !== 1) throw new BindError('array binds of different lengths');
  return [...lengths][0]!;
}

interface Converted {
  value: DuckDBValue;
  type: DuckDBType;
}

const MAX_BIGINT = 2n ** 63n - 1n;
const MIN_BIGINT = -(2n ** 63n);

function convert(type: string, value: WireValue): Converted {
  switch (type.toUpperCase()) {
    case 'FIXED': {
      if (value === null) return { value: null, type: BIGINT };
      if (!/^-?\d+$/.test(value)) return { value, type: VARCHAR }; // a scaled FIXED: DuckDB casts it
      const n = BigInt(value);
      return { value: n, type: n >= MIN_BIGINT && n <= MAX_BIGINT ? BIGINT : HUGEINT };
    }
    case 'REAL':
      return { value: value === null ? null : Number(value), type: DOUBLE };
    case 'BOOLEAN':
      return { value: value === null ? null : /^(true|1)$/i.test(value), type: BOOLEAN };
    case 'TEXT':
    case 'VARIANT':
    case 'OBJECT':
    case 'ARRAY':
    case 'DATE':
    case 'TIME':
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ':
      return { value, type: VARCHAR };
    default:
      throw new BindError(`unsupported bind type ${type}`);
  }
}

/** Binds one row: `row` picks the element of an array bind, or undefined for scalar binds. */
export function bindRow(prepared: DuckDBPreparedStatement, bindings: WireBinding[], row?: number): void {
  bindings.forEach((binding, i) => {
    const raw = row === undefined ? (binding.value as WireValue) : (binding.value as WireValue[])[row] ?? null;
    const { value, type } = convert(binding.type, raw);
    prepared.bindValue(i + 1, value, type); // a typed NULL, so `SELECT ? AS x` keeps the bind's type
  });
}

/** Binds each array bind as one DuckDB list, for the `unnest` form of a single-tuple INSERT. */
export function bindColumns(prepared: DuckDBPreparedStatement, bindings: WireBinding[]): void {
  bindings.forEach((binding, i) => {
    const converted = (binding.value as WireValue[]).map((v) => convert(binding.type, v));
    const wide = converted.some((c) => c.type === HUGEINT);
    const elementType = wide ? HUGEINT : (converted.find((c) => c.value !== null)?.type ?? VARCHAR);
    prepared.bindList(i + 1, listValue(converted.map((c) => c.value)), LIST(elementType));
  });
}
