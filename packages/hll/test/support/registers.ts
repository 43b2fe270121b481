/**
 * Test support: comparing register arrays with a short failure message (the first differing
 * register) instead of a 16,384-line diff.
 */
import { expect } from 'vitest';

export function firstDifference(actual: Uint8Array, expected: Uint8Array): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) return `register ${i}: ${actual[i]} != ${expected[i]}`;
  }
  return null;
}

export function expectSameRegisters(actual: Uint8Array, expected: Uint8Array, label = 'registers'): void {
  expect(firstDifference(actual, expected), label).toBeNull();
}
