import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogLimiter } from '../src/index.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, logger };
}

describe('LogLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the first occurrence at once and then one line per interval with the count', () => {
    const { lines, logger } = capture();
    const limiter = new LogLimiter(logger, { intervalMs: 10_000 });
    for (let i = 0; i < 884; i++) limiter.warn({ err: new Error(`connect ECONNREFUSED #${i}`) }, 'Redis did not acknowledge the writes');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'Redis did not acknowledge the writes', err: { message: 'connect ECONNREFUSED #0' } });
    expect(lines[0]).not.toHaveProperty('repeated');

    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 40, repeated: 883, intervalMs: 10_000, err: { message: 'connect ECONNREFUSED #883' } });

    limiter.warn({}, 'Redis did not acknowledge the writes'); // still inside the burst: counted, not logged
    vi.advanceTimersByTime(10_000);
    expect(lines.map((l) => l.repeated)).toEqual([undefined, 883, 1]);

    vi.advanceTimersByTime(10_000); // a quiet interval ends the burst without a line
    expect(lines).toHaveLength(3);
    limiter.warn({}, 'Redis did not acknowledge the writes');
    expect(lines).toHaveLength(4);
    expect(lines[3]).not.toHaveProperty('repeated');
  });

  it('keeps messages and levels apart, and flush() reports what is pending', () => {
    const { lines, logger } = capture();
    const limiter = new LogLimiter(logger); // default interval: 10 s
    for (let i = 0; i < 3; i++) {
      limiter.warn({}, 'a');
      limiter.error({}, 'a');
      limiter.log('debug', {}, 'b');
    }
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'a'],
      [50, 'a'],
      [20, 'b'],
    ]);
    vi.advanceTimersByTime(9_999);
    expect(lines).toHaveLength(3);
    limiter.flush();
    expect(lines.slice(3).map((l) => [l.level, l.msg, l.repeated])).toEqual([
      [40, 'a', 2],
      [50, 'a', 2],
      [20, 'b', 2],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
