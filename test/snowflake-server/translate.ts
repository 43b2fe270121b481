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
 * | `VARIANT`, `OBJECT`            | `JSON`                                             |
 * | `TO_BINARY(<x>, 'HEX')`        | `unhex(<x>)` (a bind placeholder or a column name) |
 * | `FROM VALUES (…)`              | `FROM (VALUES (…)) AS __values(column1, …)`        |
 * | `PRIMARY KEY`, `UNIQUE`        | removed: Snowflake records them, never enforces    |
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
  [/\b(?:VARIANT|OBJECT)\b/gi, 'JSON'],
  // Constraints Snowflake does not enforce must not be enforced here either (a duplicate ledger
  // row has to show up as one, not as an error).
  [/,\s*(?:CONSTRAINT\s+\w+\s+)?(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)/gi, ''],
  [/\b(?:PRIMARY\s+KEY|UNIQUE)\b/gi, ''],
  [/\bPARSE_JSON\s*\(/gi, 'json('],
  [/\bSYSDATE\s*\(\s*\)/gi, "CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)"],
  [/(?<![:\w]):(\d+)\b/g, (_m, n: string) => `$${n}`],
];

// Spans a code segment and the 'HEX' literal that follows it, so it runs on the joined text.
const TO_BINARY_HEX = /\bTO_BINARY\s*\(\s*(\?|\$\d+|[A-Za-z_][A-Za-z0-9_]*)\s*,\s*'HEX'\s*\)/gi;

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
  return fromValues(translated.replace(TO_BINARY_HEX, (_m, bind: string) => `unhex(${bind})`));
}

/** Snowflake's `FROM VALUES (a, b)` names its columns column1, column2; DuckDB needs an alias list. */
function fromValues(sql: string): string {
  const match = /\bFROM\s+VALUES\s*\(/i.exec(sql);
  if (!match) return sql;
  const open = match.index + match[0].length - 1;
  const close = closingParen(sql, open);
  if (close < 0) return sql;
  const width = splitTopLevel(sql.slice(open + 1, close)).length;
  const columns = Array.from({ length: width }, (_, i) => `column${i + 1}`).join(', ');
  return `${sql.slice(0, match.index)}FROM (VALUES ${sql.slice(open, close + 1)}) AS __values(${columns})${sql.slice(close + 1)}`;
}

/** The index of the `)` that closes the `(` at `open`, skipping literals; -1 if none. */
export function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      i = endOfQuoted(sql, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** `text` split on commas outside parentheses and literals, each part trimmed. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') i = endOfQuoted(text, i);
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((part) => part !== '');
}

function endOfQuoted(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i++;
      else return i;
    }
  }
  return text.length;
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

/**
 * An array-bind INSERT in one of the two shapes Snowflake documents, ready to run as one DuckDB
 * `INSERT INTO <target> SELECT <projection> FROM (SELECT unnest($1) AS column1, …)`:
 * - `INSERT INTO t [(cols)] VALUES (?, ?, …)`: each element a placeholder or a constant;
 * - `INSERT INTO t [(cols)] SELECT <expressions of column1…> FROM VALUES (?, ?, …)`: every
 *   element a placeholder, the expressions (functions included) in the SELECT list.
 * Anything else (a function around a placeholder inside VALUES, several tuples, UPDATE …) is
 * undefined: Snowflake documents array binds for neither.
 */
export interface ArrayBindInsert {
  /** Everything between `INSERT INTO` and `VALUES`/`SELECT`: the table and its column list. */
  target: string;
  /** The select list over column1…columnN, in Snowflake SQL. */
  projection: string;
  /** Placeholders in the VALUES tuple (= bind columns). */
  bindCount: number;
}

const PLACEHOLDER = /^(?:\?|[:$](\d+))$/;
const CONSTANT = /^(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?|NULL|TRUE|FALSE)$/i;

export function parseArrayBindInsert(sql: string): ArrayBindInsert | undefined {
  const text = sql.trim().replace(/;$/, '');
  const select = /^INSERT\s+INTO\s+([\s\S]+?)\s+SELECT\s+([\s\S]+?)\s+FROM\s+VALUES\s*\(/i.exec(text);
  if (select) {
    const open = select[0].length - 1;
    if (closingParen(text, open) !== text.length - 1) return undefined;
    const elements = splitTopLevel(text.slice(open + 1, -1));
    if (elements.length === 0 || !elements.every((e) => PLACEHOLDER.test(e))) return undefined;
    return { target: select[1]!, projection: select[2]!, bindCount: elements.length };
  }
  const values = /^INSERT\s+INTO\s+([\s\S]+?)\s+VALUES\s*\(/i.exec(text);
  if (!values) return undefined;
  const open = values[0].length - 1;
  if (closingParen(text, open) !== text.length - 1) return undefined; // a second tuple, or more
  const elements = splitTopLevel(text.slice(open + 1, -1));
  let positional = 0;
  let highest = 0;
  const projection: string[] = [];
  for (const element of elements) {
    const placeholder = PLACEHOLDER.exec(element);
    if (placeholder) {
      const k = placeholder[1] === undefined ? ++positional : Number(placeholder[1]);
      highest = Math.max(highest, k);
      projection.push(`column${k}`);
    } else if (CONSTANT.test(element)) {
      projection.push(element);
    } else {
      return undefined;
    }
  }
  return highest === 0 ? undefined : { target: values[1]!, projection: projection.join(', '), bindCount: highest };
}
