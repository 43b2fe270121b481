import { describe, expect, it } from 'vitest';
import { classifyStatement, parseArrayBindInsert, translateSql } from './translate.js';

describe('Snowflake → DuckDB translation', () => {
  it('rewrites the types the migration and the loader use', () => {
    expect(translateSql('CREATE TABLE t (m TIMESTAMP_NTZ(9), b BINARY, n NUMBER(38,0), d NUMBER, v VARIANT, x VARBINARY(8))')).toBe(
      'CREATE TABLE t (m TIMESTAMP, b BLOB, n DECIMAL(38,0), d DECIMAL(38,0), v JSON, x BLOB)',
    );
    expect(translateSql("INSERT INTO s VALUES (?, TO_BINARY(?, 'HEX'), CAST(? AS TIMESTAMP_NTZ), SYSDATE())")).toBe(
      "INSERT INTO s VALUES (?, unhex(?), CAST(? AS TIMESTAMP), CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP))",
    );
    expect(translateSql("INSERT INTO s (a, b) SELECT column1, TO_BINARY(column2, 'HEX') FROM VALUES (?, ?)")).toBe(
      'INSERT INTO s (a, b) SELECT column1, unhex(column2) FROM (VALUES (?, ?)) AS __values(column1, column2)',
    );
    expect(translateSql('SELECT CAST(v AS OBJECT), v::OBJECT, OBJECT_CONSTRUCT() FROM t')).toBe('SELECT CAST(v AS JSON), v::JSON, OBJECT_CONSTRUCT() FROM t');
    expect(translateSql('SELECT PARSE_JSON(:1), :2, x::date FROM t')).toBe('SELECT json($1), $2, x::date FROM t');
  });

  it('drops PRIMARY KEY and UNIQUE, which Snowflake records but does not enforce', () => {
    expect(translateSql('CREATE TABLE t (id VARCHAR NOT NULL PRIMARY KEY, u INT UNIQUE, v INT, PRIMARY KEY (id), CONSTRAINT k UNIQUE (v))')).toBe(
      'CREATE TABLE t (id VARCHAR NOT NULL , u INT , v INT)',
    );
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

  it('recognises the two documented array-bind INSERT shapes and nothing else', () => {
    expect(parseArrayBindInsert("INSERT INTO s (a, b, c) VALUES (?, ?, 'x?')")).toEqual({
      target: 's (a, b, c)',
      projection: "column1, column2, 'x?'",
      bindCount: 2,
    });
    expect(parseArrayBindInsert('INSERT INTO s VALUES (:2, :1, :2)')?.projection).toBe('column2, column1, column2');
    expect(parseArrayBindInsert("INSERT INTO s (a, b) SELECT column1, TO_BINARY(column2, 'HEX') FROM VALUES (?, ?)")).toEqual({
      target: 's (a, b)',
      projection: "column1, TO_BINARY(column2, 'HEX')",
      bindCount: 2,
    });
    expect(parseArrayBindInsert("INSERT INTO s VALUES (?, TO_BINARY(?, 'HEX'))")).toBeUndefined(); // a function inside VALUES
    expect(parseArrayBindInsert('INSERT INTO s SELECT column1 FROM VALUES (UPPER(?))')).toBeUndefined();
    expect(parseArrayBindInsert('INSERT INTO s VALUES (?), (?)')).toBeUndefined();
    expect(parseArrayBindInsert('INSERT INTO s SELECT ?')).toBeUndefined();
    expect(parseArrayBindInsert('UPDATE s SET a = ?')).toBeUndefined();
  });
});
