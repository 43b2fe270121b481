/**
 * SQL that PostgreSQL runs and Amazon Redshift refuses, refused here before PostgreSQL sees it,
 * so a test fails where production would. Read against the Redshift developer guide
 * ("Unsupported PostgreSQL features", "Unsupported PostgreSQL functions", "Leader node-only
 * functions") and the Data API reference (parameters are values). Each rule has a test in
 * redshift-rules.test.ts. Only code is inspected, never literals, quoted names or comments.
 *
 * - Data API parameters stand for values: `:name` right after LIMIT, OFFSET, FETCH, FROM, JOIN,
 *   INTO, UPDATE, TABLE, ORDER BY or GROUP BY is refused.
 * - `INSERT … ON CONFLICT`, `RETURNING`, `DISTINCT ON`, `LATERAL`, aggregate `FILTER (WHERE …)`.
 * - PostgreSQL arrays: `ARRAY[…]`, `type[]`, `unnest`, `WITH ORDINALITY`, `array_agg` and the
 *   other array functions.
 * - `generate_series` in a statement that reads a table: it runs on the leader node only.
 * - PostgreSQL-only functions a query could reach for: JSON(B) builders, string_agg,
 *   regexp_split_to_table, generate_subscripts, date_bin, pg_sleep, advisory locks.
 */
import { segmentSql } from './sql-translate.js';

export class RedshiftRuleViolation extends Error {}

const VALUE_ONLY = /\b(LIMIT|OFFSET|FETCH\s+(?:FIRST|NEXT)|FROM|JOIN|INTO|UPDATE|TABLE|ORDER\s+BY|GROUP\s+BY)\s+(?::([A-Za-z_]\w*))/i;

const UNSUPPORTED: Array<[RegExp, string]> = [
  [/\bON\s+CONFLICT\b/i, 'syntax error at or near "ON" (Redshift has no INSERT … ON CONFLICT)'],
  [/\bRETURNING\b/i, 'syntax error at or near "RETURNING" (Redshift has no RETURNING clause)'],
  [/\bDISTINCT\s+ON\b/i, 'SELECT DISTINCT ON is not supported'],
  [/\bLATERAL\b/i, 'LATERAL is not supported'],
  [/\bFILTER\s*\(\s*WHERE\b/i, 'syntax error at or near "(" (Redshift has no aggregate FILTER clause)'],
  [/\bARRAY\s*\[|\[\s*\]/i, 'PostgreSQL arrays are not supported (ARRAY[…], type[])'],
  [/\bWITH\s+ORDINALITY\b/i, 'syntax error at or near "WITH" (Redshift has no WITH ORDINALITY)'],
  [
    /\b(unnest|array_agg|array_length|array_to_string|array_append|array_cat|array_position|cardinality|generate_subscripts|string_agg|regexp_split_to_table|regexp_matches|json_agg|jsonb_\w+|json_build_object|json_build_array|json_object_agg|to_jsonb?|row_to_json|date_bin|make_interval|pg_sleep|pg_advisory_\w+)\s*\(/i,
    'function $1 does not exist on Redshift (a PostgreSQL-only function)',
  ],
  [/::\s*jsonb?\b/i, 'type json(b) is not supported'],
];

/** Throws RedshiftRuleViolation (its message is the SQL error text) for SQL Redshift refuses. */
export function checkRedshiftSql(sql: string): void {
  const code = segmentSql(sql)
    .map((s) => (s.code ? s.text : ' '))
    .join('');
  const misplaced = VALUE_ONLY.exec(code);
  if (misplaced) {
    throw new RedshiftRuleViolation(
      `syntax error at or near ":${misplaced[2]}": Data API parameters stand for values, not for ${misplaced[1]!.toUpperCase()} (use a literal)`,
    );
  }
  for (const [pattern, message] of UNSUPPORTED) {
    const match = pattern.exec(code);
    if (match) throw new RedshiftRuleViolation(message.replace('$1', match[1] ?? ''));
  }
  if (/\bgenerate_series\s*\(/i.test(code) && readsTable(code)) {
    throw new RedshiftRuleViolation('Specified types or functions (one per INFO message) not supported on Redshift tables.');
  }
}

/** A FROM or JOIN naming something other than a function call (a table, view or CTE). */
function readsTable(code: string): boolean {
  for (const match of code.matchAll(/\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)\s*(\()?/gi)) {
    if (match[2] === undefined) return true;
  }
  return false;
}
