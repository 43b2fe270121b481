/**
 * Redshift SQL → PostgreSQL SQL, for the Data API test server. Only the code between literals
 * is touched: string literals, quoted identifiers and comments pass through verbatim, so a value
 * that looks like SQL (`'… SORTKEY (x) …'`, `':name'`) is never rewritten.
 *
 * What is translated (each one a Redshift-only clause the adapter or a user may send):
 * - table attributes PostgreSQL lacks are removed: `DISTSTYLE {AUTO|EVEN|KEY|ALL}`,
 *   `DISTKEY (col)` / column-level `DISTKEY`, `[COMPOUND|INTERLEAVED] SORTKEY (cols)` /
 *   column-level `SORTKEY`, `SORTKEY AUTO`, `ENCODE <codec>`, `BACKUP {YES|NO}`;
 * - `VARBYTE(n)` / `VARBINARY(n)` → `BYTEA`;
 * - `SYSDATE` and `GETDATE()` → `LOCALTIMESTAMP` (server sessions run in UTC, as Redshift);
 * - `PRIMARY KEY` and `UNIQUE` are removed: Redshift keeps them as information and never
 *   enforces them, so a loader that relied on them would double count there. A table-level
 *   `PRIMARY KEY (cols)` of a CREATE TABLE becomes a plain, non-unique index created with the
 *   table, so PostgreSQL (a row store with no zone maps) still finds rows by those columns fast;
 * - `VARCHAR` without a length → `VARCHAR(256)`, Redshift's default, in DDL and in casts alike:
 *   `CAST(:x AS VARCHAR)` cuts a longer value to 256 there (PostgreSQL counts characters where
 *   Redshift counts bytes, so a multi-byte value is cut later here);
 * - `sum(` → `rs_sum(`, aggregates (pg-executor.ts) typed as Redshift's SUM: BIGINT for
 *   SMALLINT, INTEGER and BIGINT arguments (PostgreSQL gives NUMERIC for BIGINT), DOUBLE
 *   PRECISION for floating point, NUMERIC for NUMERIC;
 * - `:name` Data API parameters → `$n` (casts `x::type` are left alone).
 * Not translated because both dialects read it the same: the HyperLogLog SQL of the warehouse
 * (the `f_rta_hll_estimate` SQL UDF with its `$$` body and `$1` arguments, `LOCK`,
 * `INSERT … WITH`, the register expansion with SUBSTRING/CAST); see sql-translate.test.ts.
 * Functions with a PostgreSQL body (`from_hex`, `to_hex(bytea)`, `from_varbyte`) are installed
 * by `pg-executor.ts`, not rewritten. Limitation: clause arguments written as quoted
 * identifiers (`SORTKEY ("minute")`) are not recognised.
 */

type Segment = { code: boolean; text: string };

const QUOTED = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g;

/** Splits SQL into code and non-code (literal, quoted identifier, comment) segments. */
export function segmentSql(sql: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of sql.matchAll(QUOTED)) {
    if (match.index > last) segments.push({ code: true, text: sql.slice(last, match.index) });
    segments.push({ code: false, text: match[0] });
    last = match.index + match[0].length;
  }
  if (last < sql.length) segments.push({ code: true, text: sql.slice(last) });
  return segments;
}

const IDENTS = String.raw`\(\s*[A-Za-z_][\w$]*(?:\s*,\s*[A-Za-z_][\w$]*)*\s*\)`;
const REWRITES: [RegExp, string][] = [
  [/\bDISTSTYLE\s+(?:AUTO|EVEN|KEY|ALL)\b/gi, ''],
  [new RegExp(String.raw`\bDISTKEY\s*${IDENTS}`, 'gi'), ''],
  [new RegExp(String.raw`\b(?:(?:COMPOUND|INTERLEAVED)\s+)?SORTKEY\s*${IDENTS}`, 'gi'), ''],
  [/\bSORTKEY\s+AUTO\b/gi, ''],
  [/\b(?:DISTKEY|SORTKEY)\b/gi, ''],
  [/\bENCODE\s+[A-Za-z0-9_]+\b/gi, ''],
  [/\bBACKUP\s+(?:YES|NO)\b/gi, ''],
  [/\b(?:VARBYTE|VARBINARY|BINARY\s+VARYING)\b(?:\s*\(\s*\d+\s*\))?/gi, 'BYTEA'],
  [/\bGETDATE\s*\(\s*\)/gi, 'LOCALTIMESTAMP'],
  [/\bSYSDATE\b/gi, 'LOCALTIMESTAMP'],
  [/,\s*(?:CONSTRAINT\s+\w+\s+)?(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)/gi, ''],
  [/\b(?:PRIMARY\s+KEY|UNIQUE)\b/gi, ''],
  [/\b(?:VARCHAR|CHARACTER\s+VARYING)\b(?!\s*\()/gi, 'VARCHAR(256)'],
  [/\bsum\s*\(/gi, 'rs_sum('],
];

const CREATE_TABLE = /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][\w.]*)/i;
const TABLE_KEY = /,\s*(?:CONSTRAINT\s+\w+\s+)?PRIMARY\s+KEY\s*\(([^)]*)\)/i;

/** Rewrites the Redshift-only parts of `sql` (see the header) into PostgreSQL. */
export function translateRedshiftSql(sql: string): string {
  const translated = segmentSql(sql)
    .map((s) => (s.code ? REWRITES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), s.text) : s.text))
    .join('');
  const table = CREATE_TABLE.exec(sql)?.[1];
  const key = table ? TABLE_KEY.exec(sql)?.[1] : undefined;
  if (!table || !key) return translated;
  const columns = key.split(',').map((c) => c.trim());
  const index = `${table.replace(/\W/g, '_')}_${columns.join('_')}_key`.slice(0, 63);
  return `${translated.trimEnd()};\nCREATE INDEX IF NOT EXISTS ${index} ON ${table} (${columns.join(', ')})`;
}

export interface BoundSql {
  text: string;
  values: string[];
  /** `:name`s in the SQL that no parameter supplied. */
  missing: string[];
}

const NAMED = /(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Replaces `:name` (outside literals and comments) by `$n`, numbering names in order of first
 * use. With no parameters at all the SQL is returned untouched, as the Data API does.
 */
export function bindParameters(sql: string, parameters: { name: string; value: string }[] | undefined): BoundSql {
  if (!parameters || parameters.length === 0) return { text: sql, values: [], missing: [] };
  const byName = new Map(parameters.map((p) => [p.name, p.value]));
  const order: string[] = [];
  const missing: string[] = [];
  const text = segmentSql(sql)
    .map((s) =>
      s.code
        ? s.text.replace(NAMED, (match, name: string) => {
            if (!byName.has(name)) {
              missing.push(name);
              return match;
            }
            if (!order.includes(name)) order.push(name);
            return `$${order.indexOf(name) + 1}`;
          })
        : s.text,
    )
    .join('');
  return { text, values: order.map((name) => byName.get(name)!), missing };
}
