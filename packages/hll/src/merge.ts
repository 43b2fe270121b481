/**
 * Union of sketches: the register-wise maximum, which is what PFMERGE and multi-key PFCOUNT
 * compute. Merging is associative, commutative and idempotent, so sketches of overlapping
 * minutes can be merged in any order and any number of times.
 */
import { HllFormatError } from './errors.js';
import { createRegisters, precisionOf } from './precision.js';

/** Raises each register of `target` to the matching register of `source`, in place. */
export function mergeInto(target: Uint8Array, source: Uint8Array): void {
  if (source.length !== target.length) {
    throw new HllFormatError(
      'BAD_REGISTER_COUNT',
      `cannot merge ${source.length} registers into ${target.length}: precisions differ`,
    );
  }
  for (let i = 0; i < target.length; i++) {
    const value = source[i]!;
    if (value > target[i]!) target[i] = value;
  }
}

/**
 * A new sketch that is the union of `sketches`, which must all have the same precision.
 * With no sketches, the result is an empty p=14 sketch (PFMERGE of missing keys).
 */
export function mergeRegisters(sketches: Iterable<Uint8Array>): Uint8Array {
  let merged: Uint8Array | undefined;
  for (const sketch of sketches) {
    if (merged === undefined) {
      precisionOf(sketch);
      merged = Uint8Array.from(sketch);
    } else {
      mergeInto(merged, sketch);
    }
  }
  return merged ?? createRegisters();
}
