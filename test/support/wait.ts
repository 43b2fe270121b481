import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long a test waits for a condition before it gives up: a ceiling that only a hang
 * reaches, meant for a machine many times slower than a quiet one, never a time budget.
 */
export const WAIT_CEILING_MS = 5 * 60_000;

/**
 * Polls `read` until `done` holds, and returns that value; past `ceilingMs` returns the last
 * value read, for the caller's assertion to show what it was.
 */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { ceilingMs = WAIT_CEILING_MS, intervalMs = 50 }: { ceilingMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + ceilingMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(intervalMs);
  }
}

/**
 * Waits until `condition` holds; past the ceiling (default WAIT_CEILING_MS) fails naming what
 * never happened.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; what?: string; everyMs?: number } = {},
): Promise<void> {
  const ceilingMs = options.timeoutMs ?? WAIT_CEILING_MS;
  const held = await waitFor(async () => condition(), (ok) => ok, { ceilingMs, intervalMs: options.everyMs ?? 20 });
  if (!held) throw new Error(`timed out after ${ceilingMs} ms waiting for ${options.what ?? 'a condition'}`);
}

/**
 * Polls `check` until it returns a value other than undefined and returns it; a check that
 * throws counts as not yet. Past the ceiling fails naming `what`, with the last error as cause.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ceilingMs = WAIT_CEILING_MS): Promise<T> {
  let lastError: unknown;
  const value = await waitFor(
    async () => {
      try {
        return await check();
      } catch (error) {
        lastError = error;
        return undefined;
      }
    },
    (v) => v !== undefined,
    { ceilingMs },
  );
  if (value === undefined) throw new Error(`timed out after ${ceilingMs} ms waiting for ${what}`, { cause: lastError });
  return value;
}
