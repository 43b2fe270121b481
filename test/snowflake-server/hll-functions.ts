/**
 * Snowflake's HyperLogLog functions on the documented `HLL_EXPORT` format, for the test server
 * (warehouse protocol reference, section 4.2), registered on each session's DuckDB connection.
 *
 * A state (Snowflake's binary HLL) is here a BLOB of 4,096 registers, one byte each (p=12):
 * - `HLL_IMPORT(obj)`: the export object (JSON or its text) → state. Rejects what Snowflake
 *   rejects (wrong precision, arrays of different lengths, duplicate or out-of-range indices)
 *   through `parseSnowflakeHllExport`; NULL → NULL.
 * - `HLL_COMBINE(state)`: aggregate, the register-wise maximum; NULLs are skipped, no rows or
 *   only NULLs → NULL. A macro over `list()`, so DuckDB's GROUP BY does the grouping.
 * - `HLL_ESTIMATE(state)`: the cardinality as an integer. Snowflake does not document its
 *   estimator; this is `@rta/hll`'s (Ertl's, as Redis) at p=12.
 * - `HLL_EXPORT(state)`: state → export object (sparse or dense, whichever is shorter), as JSON.
 * Snowflake would also accept its own HLL_ACCUMULATE states; this server has none.
 */
import {
  BIGINT,
  BLOB,
  DuckDBBlobValue,
  DuckDBListValue,
  DuckDBScalarFunction,
  LIST,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBScalarMainFunction,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  SNOWFLAKE_REGISTER_COUNT,
  estimateCardinality,
  mergeRegisters,
  parseSnowflakeHllExport,
  toSnowflakeHllExport,
} from '@rta/hll';

/** Names are lower-case: DuckDB resolves functions case-insensitively, as Snowflake does. */
export async function registerHllFunctions(connection: DuckDBConnection): Promise<void> {
  const scalar = (name: string, parameter: DuckDBType, returns: DuckDBType, map: (value: DuckDBValue) => DuckDBValue) =>
    connection.registerScalarFunction(
      DuckDBScalarFunction.create({ name, mainFunction: rowByRow(name, map), returnType: returns, parameterTypes: [parameter] }),
    );
  scalar('rta_hll_import', VARCHAR, BLOB, (text) => state(parseSnowflakeHllExport(String(text))));
  scalar('rta_hll_merge', LIST(BLOB), BLOB, (list) => {
    const states = (list as DuckDBListValue).items.filter((item): item is DuckDBBlobValue => item instanceof DuckDBBlobValue);
    return states.length === 0 ? null : state(mergeRegisters(states.map((s) => registersOf(s))));
  });
  scalar('rta_hll_estimate', BLOB, BIGINT, (blob) => BigInt(estimateCardinality(registersOf(blob))));
  scalar('rta_hll_export', BLOB, VARCHAR, (blob) => JSON.stringify(toSnowflakeHllExport(registersOf(blob))));
  for (const macro of [
    'CREATE OR REPLACE TEMP MACRO hll_import(obj) AS rta_hll_import(CAST(obj AS VARCHAR))',
    'CREATE OR REPLACE TEMP MACRO hll_combine(state) AS rta_hll_merge(list(state))',
    'CREATE OR REPLACE TEMP MACRO hll_estimate(state) AS rta_hll_estimate(state)',
    'CREATE OR REPLACE TEMP MACRO hll_export(state) AS json(rta_hll_export(state))',
  ]) {
    await connection.run(macro);
  }
}

/** Applies `map` to each row; NULL in → NULL out; a thrown error fails the statement. */
function rowByRow(name: string, map: (value: DuckDBValue) => DuckDBValue): DuckDBScalarMainFunction {
  return (info, input, output) => {
    const column = input.getColumnVector(0);
    try {
      for (let row = 0; row < input.rowCount; row++) {
        const value = column.getItem(row);
        output.setItem(row, value === null ? null : map(value));
      }
      output.flush();
    } catch (error) {
      info.setError(`${name.replace(/^rta_/, '').toUpperCase()}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

function state(registers: Uint8Array): DuckDBBlobValue {
  return new DuckDBBlobValue(registers);
}

function registersOf(value: DuckDBValue): Uint8Array {
  const bytes = value instanceof DuckDBBlobValue ? value.bytes : undefined;
  if (!bytes || bytes.length !== SNOWFLAKE_REGISTER_COUNT) throw new Error('argument is not an HLL state');
  return bytes;
}
