/**
 * The three timeouts every adapter takes (WAREHOUSE_CONNECT_TIMEOUT_SECONDS,
 * WAREHOUSE_STATEMENT_TIMEOUT_SECONDS, WAREHOUSE_IDLE_TIMEOUT_SECONDS) and the one helper that
 * bounds a wait by them. What each one means per adapter is in that adapter's factory comment;
 * the common contract: no wait of a load or query on the warehouse (connecting, one statement,
 * one HTTP round trip) lasts longer than its timeout, whether the warehouse is slow, refuses,
 * resets, or accepts connections and never answers.
 */
import { WarehouseError } from './errors.js';

export interface WarehouseTimeouts {
  /** Longest wait for a connection, a session or (DuckDB) the file lock, milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Longest one statement may run, server side where the warehouse supports it and client side always, milliseconds. Default 120,000. */
  statementTimeoutMs?: number;
  /** An unused connection or session is closed (or not reused) after this long, milliseconds. Default 300,000. */
  idleTimeoutMs?: number;
}

export const timeoutDefaults = { connectTimeoutMs: 10_000, statementTimeoutMs: 120_000, idleTimeoutMs: 300_000 } as const;

export type ResolvedTimeouts = Required<WarehouseTimeouts>;

/** The timeouts with defaults applied; throws WAREHOUSE_CONFIG naming the variable of a bad one. */
export function resolveTimeouts(options: WarehouseTimeouts): ResolvedTimeouts {
  const pick = (key: keyof WarehouseTimeouts, variable: string): number => {
    const value = options[key] ?? timeoutDefaults[key];
    if (!Number.isInteger(value) || value <= 0) {
      throw new WarehouseError('WAREHOUSE_CONFIG', `${variable} (${key}) must be a positive whole number of milliseconds`);
    }
    return value;
  };
  return {
    connectTimeoutMs: pick('connectTimeoutMs', 'WAREHOUSE_CONNECT_TIMEOUT_SECONDS'),
    statementTimeoutMs: pick('statementTimeoutMs', 'WAREHOUSE_STATEMENT_TIMEOUT_SECONDS'),
    idleTimeoutMs: pick('idleTimeoutMs', 'WAREHOUSE_IDLE_TIMEOUT_SECONDS'),
  };
}

/** A wait that passed its timeout; `code` is WAREHOUSE_TIMEOUT. */
export function timeoutError(what: string, timeoutMs: number, batchId?: string): WarehouseError {
  return new WarehouseError('WAREHOUSE_TIMEOUT', `${what} timed out after ${formatMs(timeoutMs)}`, { batchId });
}

/**
 * Settles as `work` does, or rejects after `timeoutMs` with `options.error()` (default a
 * WAREHOUSE_TIMEOUT error naming `what`), first calling `onTimeout` (which should abort the
 * work: cancel the statement, destroy the socket). A late settlement of `work` is ignored (its
 * rejection is caught, never unhandled).
 */
export function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  what: string,
  options: { onTimeout?: () => void; batchId?: string; error?: () => Error } = {},
): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        options.onTimeout?.();
      } finally {
        reject(options.error ? options.error() : timeoutError(what, timeoutMs, options.batchId));
      }
    }, timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function formatMs(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000} s` : `${ms} ms`;
}
