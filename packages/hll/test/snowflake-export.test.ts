/**
 * Snowflake `HLL_EXPORT` documents: the two documented shapes, the choice between them, the
 * round trip through parseSnowflakeHllExport, and the documents it must refuse.
 */
import { describe, expect, it } from 'vitest';
import {
  HllFormatError,
  buildRegisters,
  downsampleToPrecision12,
  parseSnowflakeHllExport,
  toSnowflakeHllExport,
} from '../src/index.js';
import { expectSameRegisters } from './support/registers.js';

const few = downsampleToPrecision12(buildRegisters(['a', 'b', 'c']));
const many = downsampleToPrecision12(buildRegisters(Array.from({ length: 50_000 }, (_, n) => `v${n}`)));

describe('toSnowflakeHllExport', () => {
  it('writes the dense form: version 4, precision 12, 4096 ranks', () => {
    const exported = toSnowflakeHllExport(many, { form: 'dense' });
    expect(Object.keys(exported)).toEqual(['version', 'precision', 'dense']);
    expect(exported).toMatchObject({ version: 4, precision: 12 });
    expect('dense' in exported && exported.dense.length).toBe(4096);
  });

  it('writes the sparse form: ascending indices of non-zero registers and their ranks', () => {
    const exported = toSnowflakeHllExport(few, { form: 'sparse' });
    expect(exported).toMatchObject({ version: 4, precision: 12 });
    if (!('sparse' in exported)) throw new Error('expected the sparse form');
    const { indices, maxLzCounts } = exported.sparse;
    expect(indices.length).toBe(3);
    expect(indices).toEqual([...indices].sort((x, y) => x - y));
    expect(indices.map((index) => few[index])).toEqual(maxLzCounts);
  });

  it('picks the shorter JSON by default', () => {
    expect('sparse' in toSnowflakeHllExport(few)).toBe(true);
    expect('dense' in toSnowflakeHllExport(many)).toBe(true);
  });

  it('round-trips through JSON text', () => {
    for (const registers of [few, many, new Uint8Array(4096), new Uint8Array(4096).fill(53)]) {
      for (const form of ['dense', 'sparse'] as const) {
        const text = JSON.stringify(toSnowflakeHllExport(registers, { form }));
        expectSameRegisters(parseSnowflakeHllExport(text), registers, form);
      }
    }
  });

  it('refuses p=14 registers', () => {
    expect(() => toSnowflakeHllExport(new Uint8Array(16384))).toThrow(HllFormatError);
  });
});

describe('parseSnowflakeHllExport', () => {
  const dense = Array.from({ length: 4096 }, () => 0);
  const bad: [string, unknown, string][] = [
    ['not JSON', '{"version":4,', 'BAD_SNOWFLAKE_EXPORT'],
    ['an array', '[]', 'BAD_SNOWFLAKE_EXPORT'],
    ['version 5', { version: 5, precision: 12, dense }, 'BAD_SNOWFLAKE_EXPORT'],
    ['precision 14', { version: 4, precision: 14, dense }, 'BAD_SNOWFLAKE_EXPORT'],
    ['both forms', { version: 4, precision: 12, dense, sparse: { indices: [], maxLzCounts: [] } }, 'BAD_SNOWFLAKE_EXPORT'],
    ['neither form', { version: 4, precision: 12 }, 'BAD_SNOWFLAKE_EXPORT'],
    ['4095 dense ranks', { version: 4, precision: 12, dense: dense.slice(1) }, 'BAD_SNOWFLAKE_EXPORT'],
    ['a fractional rank', { version: 4, precision: 12, dense: [1.5, ...dense.slice(1)] }, 'BAD_SNOWFLAKE_EXPORT'],
    ['rank 54', { version: 4, precision: 12, dense: [54, ...dense.slice(1)] }, 'REGISTER_OVERFLOW'],
    ['arrays of different lengths', { version: 4, precision: 12, sparse: { indices: [1, 2], maxLzCounts: [1] } }, 'BAD_SNOWFLAKE_EXPORT'],
    ['a duplicate index', { version: 4, precision: 12, sparse: { indices: [1, 1], maxLzCounts: [1, 2] } }, 'BAD_SNOWFLAKE_EXPORT'],
    ['index 4096', { version: 4, precision: 12, sparse: { indices: [4096], maxLzCounts: [1] } }, 'BAD_SNOWFLAKE_EXPORT'],
  ];
  it.each(bad)('refuses %s', (_name, input, code) => {
    expect(() => parseSnowflakeHllExport(input)).toThrow(expect.objectContaining({ name: 'HllFormatError', code }));
  });

  it('accepts version 3 (the docs’ examples) and unsorted sparse indices', () => {
    const registers = parseSnowflakeHllExport({ version: 3, precision: 12, sparse: { indices: [9, 2], maxLzCounts: [4, 53] } });
    expect([registers[2], registers[9]]).toEqual([53, 4]);
  });
});
