/**
 * Runs translated Redshift SQL on PostgreSQL and shapes results as the Data API does.
 *
 * Sessions: every Data API statement (or batch) runs in a session of its own on Redshift, so
 * temp tables never outlive it. Here a pooled connection is checked out per statement and
 * `DISCARD TEMP` runs before it goes back. Connections use the configured schema as search_path,
 * UTC as time zone and SERIALIZABLE isolation (Redshift's defaults).
 *
 * Field mapping: int2/int4/int8 → longValue, always, written as the exact JSON number (the
 * Data API sends a BIGINT as a JSON number whatever its size, so a JavaScript client rounds
 * values past 2^53); float4/float8 → doubleValue, bool → booleanValue, bytea → blobValue
 * (base64), NULL → isNull, anything else (numeric included) → stringValue in PostgreSQL's text
 * form (timestamps `YYYY-MM-DD HH:MM:SS`, as Redshift prints them). `sum` is Redshift's
 * (`rs_sum`, see sql-translate.ts), so `sum(bigint)` arrives as an int8 long, not a numeric
 * string.
 */
import pg from 'pg';

export interface ColumnInfo {
  name: string;
  label: string;
  typeName: string;
  nullable: number;
  isSigned: boolean;
  isCaseSensitive: boolean;
  isCurrency: boolean;
  precision: number;
  scale: number;
  length: number;
  schemaName: string;
  tableName: string;
}
export type WireField =
  | { isNull: true }
  | { longValue: number }
  | { doubleValue: number }
  | { booleanValue: boolean }
  | { blobValue: string }
  | { stringValue: string };

export interface SqlOutcome {
  hasResultSet: boolean;
  /** Rows returned, or rows affected for DML; -1 when neither applies. */
  resultRows: number;
  columns: ColumnInfo[];
  records: WireField[][];
}

/** Redshift's names for the PostgreSQL types a test can produce. */
const TYPE_NAMES: Record<number, string> = {
  16: 'bool',
  17: 'varbyte',
  19: 'name',
  20: 'int8',
  21: 'int2',
  23: 'int4',
  25: 'varchar',
  700: 'float4',
  701: 'float8',
  1042: 'bpchar',
  1043: 'varchar',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamptz',
  1700: 'numeric',
};

const raw = { getTypeParser: () => (text: string) => text };

/** Marks a longValue whose digits the server writes as a raw JSON number (server.ts). */
export const RAW_LONG = '~rs-long~';

/** Redshift's SUM result types: `rs_sum(type)` returns BIGINT for integers, DOUBLE PRECISION for floats. */
function redshiftSum(schema: string): string[] {
  const widen = (input: string, output: string) => [
    `CREATE OR REPLACE FUNCTION ${schema}.rs_sum_step(${output}, ${input}) RETURNS ${output} LANGUAGE sql IMMUTABLE AS ` +
      `$$ SELECT CASE WHEN $2 IS NULL THEN $1 ELSE coalesce($1, 0) + $2 END $$`,
    `CREATE OR REPLACE AGGREGATE ${schema}.rs_sum(${input}) (SFUNC = ${schema}.rs_sum_step, STYPE = ${output})`,
  ];
  const same = (type: string, add: string) => [`CREATE OR REPLACE AGGREGATE ${schema}.rs_sum(${type}) (SFUNC = ${add}, STYPE = ${type})`];
  return [
    ...widen('smallint', 'bigint'),
    ...widen('integer', 'bigint'),
    ...same('bigint', 'int8pl'), // raises on overflow, as Redshift
    ...widen('real', 'double precision'),
    ...same('double precision', 'float8pl'),
    ...same('numeric', 'numeric_add'),
  ];
}

/** Redshift functions the server gives a PostgreSQL body, created in the served schema. */
function compatFunctions(schema: string): string[] {
  return [
    ...redshiftSum(schema),
    `CREATE OR REPLACE FUNCTION ${schema}.from_hex(text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT decode($1, 'hex') $$`,
    `CREATE OR REPLACE FUNCTION ${schema}.to_hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT encode($1, 'hex') $$`,
    `CREATE OR REPLACE FUNCTION ${schema}.from_varbyte(bytea, text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT CASE lower($2) WHEN 'hex' THEN encode($1, 'hex') WHEN 'base64' THEN encode($1, 'base64') ELSE convert_from($1, 'UTF8') END $$`,
  ];
}

export class PgExecutor {
  readonly pool: pg.Pool;

  constructor(
    databaseUrl: string,
    readonly schema: string,
    maxConnections: number,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
    this.pool = new pg.Pool({
      connectionString: databaseUrl,
      max: maxConnections,
      options: `-c search_path=${schema} -c TimeZone=UTC -c default_transaction_isolation=serializable`,
      types: raw,
    });
    this.pool.on('error', () => undefined); // an idle connection dropped by the server
  }

  /** Creates the schema (if missing) and the compat functions; serialised across servers. */
  async prepare(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(7317002)');
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      for (const sql of compatFunctions(this.schema)) await client.query(sql);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** A session for one statement or batch; `release` ends it (temp tables dropped). */
  async session(): Promise<Session> {
    return new Session(await this.pool.connect());
  }

  /** Asks PostgreSQL to stop whatever the backend `pid` is running. */
  async cancelBackend(pid: number): Promise<void> {
    await this.pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export class Session {
  constructor(private readonly client: pg.PoolClient) {}

  get pid(): number {
    return (this.client as unknown as { processID: number }).processID;
  }

  async run(text: string, values: string[]): Promise<SqlOutcome> {
    const config = { text, rowMode: 'array' as const, ...(values.length > 0 ? { values } : {}) };
    const result = (await this.client.query(config)) as pg.QueryArrayResult | pg.QueryArrayResult[];
    return toOutcome(Array.isArray(result) ? result[result.length - 1]! : result);
  }

  async release(broken: boolean): Promise<void> {
    if (!broken) await this.client.query('DISCARD TEMP').catch(() => (broken = true));
    this.client.release(broken);
  }
}

function toOutcome(result: pg.QueryArrayResult): SqlOutcome {
  const hasResultSet = result.command === 'SELECT' || (result.fields?.length ?? 0) > 0;
  const columns = (result.fields ?? []).map(columnInfo);
  const records = hasResultSet
    ? result.rows.map((row) => row.map((value, i) => toField(value, result.fields[i]!.dataTypeID)))
    : [];
  const resultRows = hasResultSet ? records.length : (result.rowCount ?? -1);
  return { hasResultSet, resultRows, columns, records };
}

function columnInfo(field: pg.FieldDef): ColumnInfo {
  const typeName = TYPE_NAMES[field.dataTypeID] ?? 'varchar';
  const numeric = ['int2', 'int4', 'int8', 'float4', 'float8', 'numeric'].includes(typeName);
  return {
    name: field.name,
    label: field.name,
    typeName,
    nullable: 1,
    isSigned: numeric,
    isCaseSensitive: typeName === 'varchar' || typeName === 'bpchar',
    isCurrency: false,
    precision: 0,
    scale: 0,
    length: field.dataTypeSize,
    schemaName: '',
    tableName: '',
  };
}

export function toField(value: unknown, oid: number): WireField {
  if (value === null || value === undefined) return { isNull: true };
  const text = String(value);
  switch (TYPE_NAMES[oid]) {
    case 'int2':
    case 'int4':
    case 'int8': {
      const n = Number(text);
      return { longValue: Number.isSafeInteger(n) ? n : (`${RAW_LONG}${text}` as unknown as number) };
    }
    case 'float4':
    case 'float8': {
      const n = Number(text);
      return Number.isFinite(n) ? { doubleValue: n } : { stringValue: text };
    }
    case 'bool':
      return { booleanValue: text === 't' };
    case 'varbyte':
      return { blobValue: Buffer.from(text.slice(2), 'hex').toString('base64') };
    default:
      return { stringValue: text };
  }
}
