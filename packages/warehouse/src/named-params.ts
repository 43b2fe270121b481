import type { QueryParams, QueryValue } from './warehouse.js';
import { WarehouseError } from './errors.js';

/** How a dialect writes bind parameters. */
export type PlaceholderStyle = 'dollar-number' | 'dollar-name' | 'colon-name' | 'question-mark';

export interface CompiledQuery {
  sql: string;
  /** Values in placeholder order (positional styles) or by name (named styles). */
  values: QueryValue[];
  names: string[];
}

// `:name` not preceded by another colon (so PostgreSQL casts like `x::date` stay), outside quotes.
const NAMED = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Rewrites the query pack's `:name` parameters into the placeholder style of a dialect. Values
 * never enter the SQL text; a missing parameter is an error naming it.
 */
export function compileNamedParams(sql: string, params: QueryParams, style: PlaceholderStyle): CompiledQuery {
  const names: string[] = [];
  const values: QueryValue[] = [];
  const text = sql.replace(NAMED, (match, name: string | undefined) => {
    if (name === undefined) return match;
    if (!(name in params)) {
      throw new WarehouseError('WAREHOUSE_QUERY', `query parameter :${name} is missing`);
    }
    switch (style) {
      case 'dollar-name':
        if (!names.includes(name)) names.push(name);
        return `$${name}`;
      case 'colon-name':
        if (!names.includes(name)) names.push(name);
        return `:${name}`;
      case 'dollar-number': {
        let index = names.indexOf(name);
        if (index < 0) {
          names.push(name);
          values.push(params[name] ?? null);
          index = names.length - 1;
        }
        return `$${index + 1}`;
      }
      case 'question-mark':
        names.push(name);
        values.push(params[name] ?? null);
        return '?';
    }
  });
  if (style === 'dollar-name' || style === 'colon-name') {
    for (const name of names) values.push(params[name] ?? null);
  }
  return { sql: text, values, names };
}

/** Drivers return BIGINT as bigint; callers get a number when it is exact, else a string. */
export function normalizeValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}
