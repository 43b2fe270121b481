/**
 * The whole Snowflake → DuckDB SQL translation of the test server, in one place. It covers the
 * Snowflake SQL the Snowflake adapter, its migration, the query pack and the server's own tests
 * use, nothing more; anything else is passed to DuckDB unchanged (and fails there if DuckDB
 * does not know it, which is what a test should see).
 *
 * Rewrites, applied outside string literals, quoted identifiers and comments:
 *
 * | Snowflake                      | DuckDB                                             |
 * |--------------------------------|----------------------------------------------------|
 * | `TIMESTAMP_NTZ[(p)]`           | `TIMESTAMP` (microseconds; NTZ is wall-clock UTC)  |
 * | `BINARY[(n)]`, `VARBINARY`     | `BLOB`                                             |
 * | `NUMBER[(p[,s])]`              | `DECIMAL(p,s)`, default `DECIMAL(38,0)`            |
 * | `VARIANT`                      | `JSON`                                             |
 * | `TO_BINARY(<bind>, 'HEX')`     | `unhex(<bind>)` (bind placeholders only)           |
 * | `PARSE_JSON(`                  | `json(`                                            |
 * | `SYSDATE()`                    | the current UTC time as a `TIMESTAMP`              |
 * | `:1`, `:2` … placeholders      | `$1`, `$2` …                                       |
 *
 * `HLL_IMPORT`, `HLL_COMBINE`, `HLL_ESTIMATE`, `HLL_EXPORT` are not rewritten: each session's
 * connection has them as functions of the same names (`hll-functions.ts`).
 *
 * Same in both and therefore untouched: `CREATE [OR REPLACE] TEMPORARY TABLE`,
 * `CREATE TABLE IF NOT EXISTS`, `MERGE INTO … WHEN NOT MATCHED THEN INSERT`, `date_trunc`,
 * `LIMIT ?`, `QUALIFY`. Transaction statements and implicit commits are the session's job
 * (`session.ts`), not the translator's.
 */

/** Splits SQL into code and non-code (literals, quoted identifiers, comments) segments. */
const SEGMENTS = /('(?:[^'\\]|\\.|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\$\$[\s\S]*?\$\$)/;

const CODE_RULES: Array<[RegExp, string | ((...groups: string[]) => string)]> = [
  [/\bTIMESTAMP_NTZ(?:\s*\(\s*\d+\s*\))?/gi, 'TIMESTAMP'],
  [/\b(?:VAR)?BINARY(?:\s*\(\s*\d+\s*\))?/gi, 'BLOB'],
  [
    /\bNUMBER\b(?:\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?/gi,
    (_m, p: string | undefined, s: string | undefined) => `DECIMAL(${p ?? '38'},${s ?? '0'})`,
  ],
  [/\bVARIANT\b/gi, 'JSON'],
  [/\bPARSE_JSON\s*\(/gi, 'json('],
  [/\bSYSDATE\s*\(\s*\)/gi, "CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)"],
  [/(?<![:\w]):(\d+)\b/g, (_m, n: string) => `$${n}`],
];

// Spans a code segment and the 'HEX' literal that follows it, so it runs on the joined text.
const TO_BINARY_HEX = /\bTO_BINARY\s*\(\s*(\?|\$\d+)\s*,\s*'HEX'\s*\)/gi;

export function translateSql(sql: string): string {
  const parts = sql.split(SEGMENTS);
  const translated = parts
    .map((part, i) => {
      if (i % 2 === 1) return part; // a literal, quoted identifier or comment
      let code = part;
      for (const [pattern, replacement] of CODE_RULES) {
        code = code.replace(pattern, replacement as string);
      }
      return code;
    })
    .join('');
  return translated.replace(TO_BINARY_HEX, (_m, bind: string) => `unhex(${bind})`);
}

/** What the session needs to know about a statement before running it. */
export type StatementKind =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'merge'
  | 'ddl'
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'other';

export function classifyStatement(sql: string): StatementKind {
  const text = sql.replace(/^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '');
  const word = /^\(*\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? '';
  switch (word) {
    case 'SELECT':
    case 'WITH':
    case 'SHOW':
    case 'DESCRIBE':
    case 'VALUES':
      return 'select';
    case 'INSERT':
      return 'insert';
    case 'UPDATE':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'MERGE':
      return 'merge';
    case 'CREATE':
    case 'DROP':
    case 'ALTER':
    case 'TRUNCATE':
      return 'ddl';
    case 'BEGIN':
    case 'START':
      return 'begin';
    case 'COMMIT':
      return 'commit';
    case 'ROLLBACK':
    case 'ABORT':
      return 'rollback';
    default:
      return 'other';
  }
}

/** An `INSERT INTO <target> VALUES (<one tuple>)`, the shape array binds can run as one statement. */
export interface SingleTupleInsert {
  /** Everything between `INSERT INTO` and `VALUES`: the table and its column list. */
  target: string;
  /** The tuple's expressions, with each placeholder replaced by `__b<k>` (k is 1-based). */
  projection: string;
  /** Number of distinct binds the tuple refers to. */
  bindCount: number;
}

/**
 * Recognises a single-tuple INSERT so that an array bind of N rows can run as one
 * `INSERT … SELECT … FROM (SELECT unnest($1) AS __b1, …)` instead of N statements.
 * Returns undefined for every other shape (the caller then runs the statement once per row).
 */
export function parseSingleTupleInsert(sql: string): SingleTupleInsert | undefined {
  const match = /^\s*INSERT\s+INTO\s+([\s\S]+?)\s+VALUES\s*\(([\s\S]*)\)\s*;?\s*$/i.exec(sql);
  if (!match) return undefined;
  const [, target, tuple] = match as unknown as [string, string, string];
  const parts = tuple.split(SEGMENTS);
  let positional = 0;
  let highest = 0;
  let nested = 0;
  const projection = parts
    .map((part, i) => {
      if (i % 2 === 1) return part;
      nested += (part.match(/\)\s*,\s*\(/g) ?? []).length; // a second tuple: not our shape
      return part.replace(/\?|\$(\d+)/g, (_m, n: string | undefined) => {
        const k = n === undefined ? ++positional : Number(n);
        highest = Math.max(highest, k);
        return `__b${k}`;
      });
    })
    .join('');
  if (nested > 0 || highest === 0) return undefined;
  return { target, projection, bindCount: highest };
}
