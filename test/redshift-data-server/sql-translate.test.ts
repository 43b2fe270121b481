/** The Redshift → PostgreSQL rewrites of the test server touch code only, never literals. */
import { describe, expect, it } from 'vitest';
import { readSql, splitStatements } from '@rta/warehouse';
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
    expect(translateRedshiftSql('SELECT SUM (a), sum(DISTINCT b) FROM t')).toBe('SELECT rs_sum(a), rs_sum(DISTINCT b) FROM t');
  });

  it('gives VARCHAR without a length Redshift\'s default of 256, in casts too', () => {
    expect(translateRedshiftSql('SELECT CAST(:a AS VARCHAR), :b::varchar, CAST(:c AS VARCHAR (8)), CAST(:d AS character varying)')).toBe(
      'SELECT CAST(:a AS VARCHAR(256)), :b::VARCHAR(256), CAST(:c AS VARCHAR (8)), CAST(:d AS VARCHAR(256))',
    );
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

describe('the HyperLogLog SQL of the warehouse (unique_visitor_registers, f_rta_hll_estimate)', () => {
  const migration = splitStatements(readSql('redshift', '_migrate'));

  it('runs on PostgreSQL with only the table attributes and the unenforced key stripped', () => {
    const numbers = migration.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS rta_register_numbers'))!;
    expect(translateRedshiftSql(numbers).replace(/\s+/g, ' ').trim()).toBe(
      'CREATE TABLE IF NOT EXISTS rta_register_numbers ( n SMALLINT NOT NULL ); CREATE INDEX IF NOT EXISTS rta_register_numbers_n_key ON rta_register_numbers (n)',
    );
    const registers = migration.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS unique_visitor_registers'))!;
    expect(translateRedshiftSql(registers)).not.toMatch(/DISTSTYLE|SORTKEY/);
    // LOCK, INSERT … WITH, and the SQL UDF (a $$ body with $1…$3) are the same in both dialects.
    for (const statement of migration.filter((s) => /^(LOCK|INSERT)/.test(s))) {
      expect(translateRedshiftSql(statement)).toBe(statement);
    }
    const udf = splitStatements(readSql('redshift', '_hll_estimate_udf'))[0]!;
    expect(translateRedshiftSql(udf)).toBe(udf);
    // Only SUM is renamed, to the aggregate typed as Redshift's.
    expect(translateRedshiftSql(readSql('redshift', 'visitors'))).toBe(readSql('redshift', 'visitors').replace('sum(', 'rs_sum('));
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
