/** The Redshift → PostgreSQL rewrites of the test server touch code only, never literals. */
import { describe, expect, it } from 'vitest';
import { bindParameters, segmentSql, translateRedshiftSql } from './sql-translate.js';

describe('translateRedshiftSql', () => {
  it('strips distribution and sort clauses and maps VARBYTE', () => {
    const sql = `CREATE TABLE t (a INT ENCODE az64 DISTKEY, b VARBYTE(65535), c TIMESTAMP DEFAULT GETDATE() SORTKEY)
      DISTSTYLE EVEN COMPOUND SORTKEY (a, c)`;
    expect(translateRedshiftSql(sql).replace(/\s+/g, ' ').trim()).toBe(
      'CREATE TABLE t (a INT , b BYTEA, c TIMESTAMP DEFAULT LOCALTIMESTAMP )',
    );
    expect(translateRedshiftSql('CREATE TABLE t (a INT) DISTKEY (a) INTERLEAVED SORTKEY (a) BACKUP NO').trim()).toBe('CREATE TABLE t (a INT)');
    expect(translateRedshiftSql('SELECT sysdate, SysDate')).toBe('SELECT LOCALTIMESTAMP, LOCALTIMESTAMP');
  });

  it('leaves literals, quoted identifiers and comments alone', () => {
    const sql = `SELECT 'DISTKEY (a) VARBYTE sysdate' AS "SORTKEY (x)" -- DISTSTYLE ALL\nFROM t`;
    expect(translateRedshiftSql(sql)).toBe(sql);
    expect(segmentSql("a 'b''c' d").map((s) => [s.code, s.text])).toEqual([
      [true, 'a '],
      [false, "'b''c'"],
      [true, ' d'],
    ]);
  });
});

describe('bindParameters', () => {
  it('numbers :names in order of first use, skipping literals and casts', () => {
    const bound = bindParameters("SELECT :b, :a::int, ':a', :b", [
      { name: 'a', value: '1' },
      { name: 'b', value: 'x' },
    ]);
    expect(bound).toEqual({ text: "SELECT $1, $2::int, ':a', $1", values: ['x', '1'], missing: [] });
  });

  it('reports names without a value and leaves SQL alone when no parameters come', () => {
    expect(bindParameters('SELECT :a, :c', [{ name: 'a', value: '1' }]).missing).toEqual(['c']);
    expect(bindParameters('SELECT :a', undefined)).toEqual({ text: 'SELECT :a', values: [], missing: [] });
  });
});
