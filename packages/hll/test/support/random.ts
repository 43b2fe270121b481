/**
 * Test support: a seeded random source, so a failing case can be replayed from its seed, and
 * the random set and register shapes the oracle tests use.
 */

/** mulberry32: a small, fast 32-bit PRNG; `next()` is uniform in [0, 1). */
export class SeededRandom {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** An integer in [0, max], log-uniform so that small and large sizes are equally common. */
  logInt(max: number): number {
    return Math.floor(Math.exp(this.next() * Math.log(max + 1))) - 1;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

/** A set of `count` distinct string elements `u<start>` … `u<start+count-1>`. */
export interface RangeSet {
  start: number;
  count: number;
}

export function* rangeElements({ start, count }: RangeSet): Generator<string> {
  for (let n = start; n < start + count; n++) yield `u${n}`;
}

/** Registers of a geometric-like sketch: what `load` elements per register would leave behind. */
export function syntheticRegisters(random: SeededRandom, load: number, maxRank = 51): Uint8Array {
  const registers = new Uint8Array(16384);
  const hitProbability = 1 - Math.exp(-load);
  for (let i = 0; i < registers.length; i++) {
    if (random.next() >= hitProbability) continue;
    // The max of ~load geometric ranks is about log2(load) + a geometric tail.
    let rank = Math.max(1, Math.round(Math.log2(Math.max(load, 1))));
    while (rank < maxRank && random.next() < 0.5) rank++;
    registers[i] = Math.min(rank, maxRank);
  }
  return registers;
}
