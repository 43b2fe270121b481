import { describe, expect, it } from 'vitest';
import { classifyStatement, parseSingleTupleInsert, translateSql } from './translate.js';

describe('Snowflake → DuckDB translation', () => {
  it('rewrites the types the migration and the loader use', () => {
    expect(translateSql('CREATE TABLE t (m TIMESTAMP_NTZ(9), b BINARY, n NUMBER(38,0), d NUMBER, v VARIANT, x VARBINARY(8))')).toBe(
      'CREATE TABLE t (m TIMESTAMP, b BLOB, n DECIMAL(38,0), d DECIMAL(38,0), v JSON, x BLOB)',
    );
    expect(translateSql("INSERT INTO s VALUES (?, TO_BINARY(?, 'HEX'), CAST(? AS TIMESTAMP_NTZ), SYSDATE())")).toBe(
      "INSERT INTO s VALUES (?, unhex(?), CAST(? AS TIMESTAMP), CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP))",
    );
    expect(translateSql('SELECT PARSE_JSON(:1), :2, x::date FROM t')).toBe('SELECT json($1), $2, x::date FROM t');
  });

  it('leaves literals, quoted identifiers and comments alone', () => {
    const sql = `SELECT 'TIMESTAMP_NTZ :1 BINARY', "NUMBER" FROM t -- VARIANT :2\nWHERE a = $$BINARY$$`;
    expect(translateSql(sql)).toBe(sql);
  });

  it('classifies statements for transaction handling and row counts', () => {
    expect(['  select 1', 'WITH x AS (SELECT 1) SELECT * FROM x', 'INSERT INTO t VALUES (1)', 'MERGE INTO t USING s ON 1=1 WHEN NOT MATCHED THEN INSERT VALUES (1)', 'CREATE TEMPORARY TABLE IF NOT EXISTS x (a INT)', 'BEGIN TRANSACTION', 'START TRANSACTION', 'commit', 'ROLLBACK', '-- c\nDELETE FROM t'].map(classifyStatement)).toEqual(
      ['select', 'select', 'insert', 'merge', 'ddl', 'begin', 'begin', 'commit', 'rollback', 'delete'],
    );
  });

  it('recognises single-tuple INSERTs for array binds and nothing else', () => {
    expect(parseSingleTupleInsert("INSERT INTO s (a, b, c) VALUES (?, unhex(?), 'x?')")).toEqual({
      target: 's (a, b, c)',
      projection: "__b1, unhex(__b2), 'x?'",
      bindCount: 2,
    });
    expect(parseSingleTupleInsert('INSERT INTO s VALUES ($2, $1, $2)')?.projection).toBe('__b2, __b1, __b2');
    expect(parseSingleTupleInsert('INSERT INTO s VALUES (?), (?)')).toBeUndefined();
    expect(parseSingleTupleInsert('INSERT INTO s SELECT ?')).toBeUndefined();
    expect(parseSingleTupleInsert('UPDATE s SET a = ?')).toBeUndefined();
  });
});
