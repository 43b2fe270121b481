/**
 * The conversions from Redis's HyperLogLog string to what each warehouse merges in SQL are
 * exact: every form holds the very registers Redis holds (p=14), or their exact p=12
 * down-sampling (Snowflake).
 */
import { describe, expect, it } from 'vitest';
import {
  buildRegisters,
  decodeRedisHll,
  downsampleToPrecision12,
  encodeRedisHll,
  parseSnowflakeHllExport,
} from '@rta/hll';
import {
  REDSHIFT_DENSE_TEXT_LENGTH,
  packedRegisters,
  packedSketchRegisters,
  redshiftRegisterText,
  sketchRegisters,
  snowflakeHllImport,
  unpackRegisters,
} from '../src/sketch-formats.js';

const sizes = [0, 1, 10, 100, 1_000, 4_000, 10_000, 100_000];
const sketchOf = (n: number) => encodeRedisHll(buildRegisters(Array.from({ length: n }, (_, i) => `visitor-${i}`)));

/** Reads the Redshift text back as the loader's SQL does (see EXPAND_REGISTERS in load-plan.ts). */
function parseRedshiftText({ digits, width, entries }: ReturnType<typeof redshiftRegisterText>): Uint8Array {
  expect(digits).toHaveLength(width * entries);
  const registers = new Uint8Array(16_384);
  for (let n = 0; n < entries; n++) {
    const entry = Number(digits.slice(width * n, width * n + width));
    if (width === 2) registers[n] = entry;
    else registers[Math.floor(entry / 100)] = entry % 100;
  }
  return registers;
}

describe('sketch formats', () => {
  it.each(sizes)('round-trips the registers of %i visitors exactly in every form', (n) => {
    const sketch = sketchOf(n);
    const registers = sketchRegisters(sketch, 'b');
    expect(registers).toEqual(decodeRedisHll(sketch).registers);

    const packed = packedRegisters(registers);
    expect(packed).toEqual([...packed].sort((a, b) => a - b));
    expect(packed.length).toBe(registers.filter((r) => r !== 0).length);
    expect(unpackRegisters(packed)).toEqual(registers);
    expect(packedSketchRegisters(sketch, 'b')).toEqual(packed);

    const text = redshiftRegisterText(registers);
    expect(text.digits).toMatch(/^\d*$/);
    expect(text.digits.length).toBeLessThanOrEqual(REDSHIFT_DENSE_TEXT_LENGTH);
    expect(parseRedshiftText(text)).toEqual(registers);

    expect(parseSnowflakeHllExport(snowflakeHllImport(registers))).toEqual(downsampleToPrecision12(registers));
  });

  it('picks the sparse Redshift text while it is shorter than the dense one', () => {
    expect(redshiftRegisterText(sketchRegisters(sketchOf(1), 'b'))).toMatchObject({ width: 7, entries: 1 });
    expect(redshiftRegisterText(sketchRegisters(sketchOf(100_000), 'b')).digits).toHaveLength(REDSHIFT_DENSE_TEXT_LENGTH);
  });

  it('rejects a string that is not a Redis HyperLogLog, naming the batch', () => {
    expect(() => sketchRegisters(new Uint8Array([72, 89, 76, 76, 1, 0, 255, 7]), 'b-7')).toThrow(
      expect.objectContaining({ code: 'WAREHOUSE_LOAD', batchId: 'b-7' }),
    );
    expect(() => packedSketchRegisters(new Uint8Array([72, 89, 76, 76, 1, 0, 255, 7]), 'b-7')).toThrow(
      expect.objectContaining({ code: 'WAREHOUSE_LOAD', batchId: 'b-7' }),
    );
  });
});
