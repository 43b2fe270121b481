import { describe, expect, it } from 'vitest';
import { FlushProgress, duration } from '../src/flush-progress.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 27, 10, 0);

function run(isTTY: boolean, minutes: number, perMinuteMs: number, succeeded = true) {
  let now = 0;
  const written: string[] = [];
  const progress = new FlushProgress({ isTTY, write: (text: string) => written.push(text) }, () => now);
  const pending = Array.from({ length: minutes }, (_, i) => T0 + i * MINUTE);
  progress.addPending(pending);
  for (const minute of pending) {
    now += perMinuteMs;
    progress.loaded(minute, 1_000);
  }
  progress.finish(succeeded);
  return written;
}

describe('cli flush progress', () => {
  it('off a terminal: a plain line per tenth of the minutes, with rows/s and the time left, ending at 100 %', () => {
    // Minute k is done when minute k + 1 starts loading: 10 % shows at the 11th of 100 loads (5.5 s).
    const lines = run(false, 100, 500);
    expect(lines).toHaveLength(10);
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(lines[0]).toBe('flushing: 10/100 minutes (10 %), 2,000 rows/s, about 50 s left\n');
    expect(lines[4]).toBe('flushing: 50/100 minutes (50 %), 2,000 rows/s, about 26 s left\n');
    expect(lines[9]).toBe('flushing: 100/100 minutes (100 %), 2,000 rows/s\n');
  });

  it('on a terminal: one line redrawn in place at most 5 times a second, cleared at the end', () => {
    const writes = run(true, 100, 50); // 5 s in all: about 25 redraws
    expect(writes.length).toBeGreaterThan(20);
    expect(writes.length).toBeLessThan(30);
    expect(writes.slice(0, -1).every((w) => w.startsWith('\r\x1b[K') && !w.includes('\n'))).toBe(true);
    expect(writes[1]).toMatch(/^\r\x1b\[Kflushing: 4\/100 minutes \(4 %\), 20,000 rows\/s, about 6 s left, at 2026-11-27 10:04$/);
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('says nothing for a single minute, and no 100 % line after a failure', () => {
    expect(run(false, 1, 500)).toEqual([]);
    expect(run(true, 1, 500)).toEqual([]);
    const failed = run(false, 5, 500, false);
    expect(failed.at(-1)).toBe('flushing: 4/5 minutes (80 %), 2,000 rows/s, about 1 s left\n');
  });

  it('durations read as people say them', () => {
    expect([duration(0.2), duration(45), duration(200), duration(7_500)]).toEqual(['1 s', '45 s', '3 min 20 s', '2 h 5 min']);
  });
});
