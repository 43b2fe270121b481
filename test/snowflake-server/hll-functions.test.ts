/**
 * HLL_IMPORT, HLL_COMBINE, HLL_ESTIMATE and HLL_EXPORT of the Snowflake test server on their
 * own, on a bare DuckDB connection: the documented HLL_EXPORT format in and out, merging by
 * register maximum, NULL handling, and the inputs HLL_IMPORT must refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { buildRegisters, estimateCardinality, mergeRegisters, parseSnowflakeHllExport, toSnowflakeHllExport } from '@rta/hll';
import { registerHllFunctions } from './hll-functions.js';

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `v-${from + i}`);
const p12 = (from: number, n: number) => buildRegisters(ids(from, n), 12);
const exportText = (registers: Uint8Array, form: 'sparse' | 'dense' = 'sparse') => JSON.stringify(toSnowflakeHllExport(registers, { form }));

describe('Snowflake HLL functions of the test server', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  const rows = async (sql: string, values: Record<string, string | null> = {}) =>
    (await connection.runAndReadAll(sql, values)).getRowObjectsJS();

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    await registerHllFunctions(connection);
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  it('HLL_IMPORT then HLL_EXPORT gives back the same registers, sparse or dense', async () => {
    for (const form of ['sparse', 'dense'] as const) {
      const registers = p12(0, 700);
      const [row] = await rows('SELECT CAST(HLL_EXPORT(HLL_IMPORT($j)) AS VARCHAR) AS e', { j: exportText(registers, form) });
      expect(parseSnowflakeHllExport(row!.e as string)).toEqual(registers);
    }
  });

  it('HLL_IMPORT accepts a JSON value as well as its text, version 3 or 4', async () => {
    const doc = toSnowflakeHllExport(p12(0, 5), { form: 'sparse' });
    const [row] = await rows('SELECT HLL_ESTIMATE(HLL_IMPORT(CAST($j AS JSON))) AS a, HLL_ESTIMATE(HLL_IMPORT($k)) AS b', {
      j: JSON.stringify(doc),
      k: JSON.stringify({ ...doc, version: 3 }),
    });
    expect(row).toEqual({ a: 5n, b: 5n });
  });

  it('HLL_COMBINE merges per group by register maximum; HLL_ESTIMATE is the codec estimate at p=12', async () => {
    await connection.run('CREATE TABLE sketches (k INTEGER, obj JSON)');
    const parts: Array<[number, Uint8Array | null]> = [
      [1, p12(0, 3_000)],
      [1, p12(2_000, 3_000)],
      [1, null],
      [2, p12(10_000, 40)],
      [3, null],
    ];
    for (const [k, registers] of parts) {
      await connection.run('INSERT INTO sketches VALUES ($k, $o)', { k: String(k), o: registers ? exportText(registers) : null });
    }
    const result = await rows(
      'SELECT k, HLL_ESTIMATE(HLL_COMBINE(HLL_IMPORT(obj))) AS n, CAST(HLL_EXPORT(HLL_COMBINE(HLL_IMPORT(obj))) AS VARCHAR) AS e FROM sketches GROUP BY k ORDER BY k',
    );
    const merged = mergeRegisters([p12(0, 3_000), p12(2_000, 3_000)]);
    expect(merged).toEqual(p12(0, 5_000));
    expect(result[0]).toMatchObject({ k: 1, n: BigInt(estimateCardinality(merged)) });
    expect(parseSnowflakeHllExport(result[0]!.e as string)).toEqual(merged);
    expect(result[1]).toMatchObject({ k: 2, n: BigInt(estimateCardinality(p12(10_000, 40))) });
    expect(result[2]).toEqual({ k: 3, n: null, e: null }); // only NULLs: NULL, as Snowflake
  });

  it.each([
    ['precision other than 12', '{"version":4,"precision":14,"sparse":{"indices":[],"maxLzCounts":[]}}'],
    ['arrays of different lengths', '{"version":4,"precision":12,"sparse":{"indices":[1,2],"maxLzCounts":[3]}}'],
    ['a duplicate index', '{"version":4,"precision":12,"sparse":{"indices":[1,1],"maxLzCounts":[3,4]}}'],
    ['an index out of range', '{"version":4,"precision":12,"sparse":{"indices":[4096],"maxLzCounts":[1]}}'],
    ['a dense array of the wrong length', '{"version":4,"precision":12,"dense":[1,2,3]}'],
    ['text that is not JSON', 'not json'],
  ])('HLL_IMPORT refuses %s', async (_what, text) => {
    await expect(rows('SELECT HLL_IMPORT($j) AS s', { j: text })).rejects.toThrow(/HLL_IMPORT/);
  });

  it('HLL_ESTIMATE refuses what is not an HLL state', async () => {
    await expect(rows("SELECT HLL_ESTIMATE(CAST('abc' AS BLOB)) AS n")).rejects.toThrow(/HLL_ESTIMATE/);
  });
});
