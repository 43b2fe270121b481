/**
 * Snowflake's table locks, which DuckDB does not have. In Snowflake, UPDATE, DELETE and MERGE
 * lock their target table: a second session's statement on the same table waits until the
 * holder's transaction ends (or, outside a transaction, its statement does), up to the waiting
 * session's LOCK_TIMEOUT, then fails. INSERT and SELECT take no lock. DuckDB instead lets both
 * run and fails one at commit (or, without a primary key, lets both commit): the server waits
 * here first, so tests see what Snowflake does.
 */

interface Holder {
  owner: object;
  waiters: Array<{ owner: object; grant: () => void; refuse: (error: Error) => void }>;
}

export class LockTimeout extends Error {
  constructor(
    readonly table: string,
    readonly timeoutMs: number,
  ) {
    super(`statement waited for the lock on table ${table} longer than LOCK_TIMEOUT (${timeoutMs / 1_000} s) and was aborted`);
  }
}

export class TableLocks {
  private readonly held = new Map<string, Holder>();

  /** Resolves once `owner` holds `table` (at once if it already does); rejects with LockTimeout. */
  acquire(table: string, owner: object, timeoutMs: number): Promise<void> {
    const holder = this.held.get(table);
    if (!holder) {
      this.held.set(table, { owner, waiters: [] });
      return Promise.resolve();
    }
    if (holder.owner === owner) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        owner,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
        refuse: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        holder.waiters.splice(holder.waiters.indexOf(waiter), 1);
        reject(new LockTimeout(table, timeoutMs));
      }, timeoutMs);
      holder.waiters.push(waiter);
    });
  }

  /** Statements waiting for a lock now. */
  waiting(): number {
    return [...this.held.values()].reduce((n, holder) => n + holder.waiters.length, 0);
  }

  /** Releases every lock of `owner` (its transaction ended) and stops its waits. */
  releaseAll(owner: object, reason = new Error('the session ended')): void {
    for (const [table, holder] of this.held) {
      for (const waiter of holder.waiters.filter((w) => w.owner === owner)) {
        holder.waiters.splice(holder.waiters.indexOf(waiter), 1);
        waiter.refuse(reason);
      }
      if (holder.owner !== owner) continue;
      const next = holder.waiters.shift();
      if (next) {
        holder.owner = next.owner;
        next.grant();
      } else {
        this.held.delete(table);
      }
    }
  }
}

/** The table a statement locks in Snowflake (upper-cased when unquoted), or undefined. */
export function lockedTable(sql: string): string | undefined {
  const match = /^\s*(?:MERGE\s+INTO|UPDATE|DELETE\s+FROM)\s+("[^"]+"|[A-Za-z_][\w$.]*)/i.exec(sql);
  if (!match) return undefined;
  const name = match[1]!;
  return name.startsWith('"') ? name.slice(1, -1) : name.toUpperCase();
}
