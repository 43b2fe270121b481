/**
 * Fault injection for the Data API test server. Each armed fault fires once, on the `nth`
 * matching event counted from when it was armed (default the first), then disarms itself.
 *
 * Statement faults count new statement submissions (ExecuteStatement, BatchExecuteStatement);
 * a ClientToken replay is not a new statement and is not counted. `match` filters on the SQL
 * (any of a batch's statements).
 * - `failStatement`: the statement runs (a batch inside its transaction), then fails with
 *   `message` and is rolled back: status FAILED, `Error` set, nothing committed.
 * - `hangStatement`: the statement stays STARTED and never runs until CancelStatement (ABORTED).
 * - `holdStatements`: every matching statement submitted from now on stays SUBMITTED until the
 *   returned hold is released (then runs normally); a test drives the lifecycle, no timer does.
 *
 * Request faults count HTTP requests of one operation (default any).
 * - `kind: 'http-500'` answers InternalServerException; `kind: 'drop-connection'` destroys the
 *   socket without an answer.
 * - `when: 'before'` (default) fires before the operation does anything; `when: 'after'` fires
 *   after it took effect (a statement was submitted), so the client sees an error for a request
 *   that in fact succeeded: what makes an SDK retry send the same ClientToken again.
 */

export interface StatementFaultSpec {
  nth?: number;
  match?: string | RegExp;
  /** The SQL error text (FAILED only). Default `injected failure`. */
  message?: string;
}

export type RequestFaultKind = 'http-500' | 'drop-connection';

export interface RequestFaultSpec {
  kind: RequestFaultKind;
  /** `ExecuteStatement`, `BatchExecuteStatement`, `DescribeStatement`, …; default every operation. */
  operation?: string;
  nth?: number;
  when?: 'before' | 'after';
}

export type StatementFault = { kind: 'fail'; message: string } | { kind: 'hang' };

/** Statements kept SUBMITTED until `release()`. */
export interface StatementHold {
  /** Resolves once released. */
  readonly released: Promise<void>;
  release(): void;
}
export type RequestFault = { kind: RequestFaultKind; when: 'before' | 'after' };

interface Armed<T> {
  remaining: number;
  matches: (subject: string) => boolean;
  fault: T;
}

export class FaultControls {
  private statementFaults: Armed<StatementFault>[] = [];
  private requestFaults: Armed<RequestFault>[] = [];
  private holds: Array<{ matches: (sql: string) => boolean; hold: StatementHold }> = [];

  holdStatements(spec: { match?: string | RegExp } = {}): StatementHold {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const entry = {
      matches: sqlMatcher(spec.match),
      hold: {
        released,
        release: () => {
          this.holds = this.holds.filter((h) => h !== entry);
          release();
        },
      },
    };
    this.holds.push(entry);
    return entry.hold;
  }

  failStatement(spec: StatementFaultSpec = {}): void {
    this.statementFaults.push(armed(spec.nth, sqlMatcher(spec.match), { kind: 'fail', message: spec.message ?? 'injected failure' }));
  }

  hangStatement(spec: Omit<StatementFaultSpec, 'message'> = {}): void {
    this.statementFaults.push(armed(spec.nth, sqlMatcher(spec.match), { kind: 'hang' }));
  }

  failRequest(spec: RequestFaultSpec): void {
    const operation = spec.operation;
    this.requestFaults.push(armed(spec.nth, (op) => !operation || op === operation, { kind: spec.kind, when: spec.when ?? 'before' }));
  }

  /** Disarms everything and releases every hold. */
  clear(): void {
    this.statementFaults = [];
    this.requestFaults = [];
    for (const { hold } of [...this.holds]) hold.release();
  }

  /** True while some fault is armed and has not fired. */
  get pending(): boolean {
    return this.statementFaults.length + this.requestFaults.length > 0;
  }

  /** @internal Called once per new statement with its SQL. */
  takeStatementFault(sqls: string[]): StatementFault | undefined {
    return take(this.statementFaults, sqls.join('\n'));
  }

  /** @internal The hold a new statement waits for, if any. */
  takeHold(sqls: string[]): StatementHold | undefined {
    const sql = sqls.join('\n');
    return this.holds.find((h) => h.matches(sql))?.hold;
  }

  /** @internal Called once per request with its operation name. */
  takeRequestFault(operation: string): RequestFault | undefined {
    return take(this.requestFaults, operation);
  }
}

function armed<T>(nth: number | undefined, matches: (subject: string) => boolean, fault: T): Armed<T> {
  return { remaining: nth ?? 1, matches, fault };
}

function sqlMatcher(match: string | RegExp | undefined): (sql: string) => boolean {
  if (match === undefined) return () => true;
  return typeof match === 'string' ? (sql) => sql.includes(match) : (sql) => match.test(sql);
}

/** Counts the event against every matching fault; returns (and disarms) the first that fires. */
function take<T>(list: Armed<T>[], subject: string): T | undefined {
  let fired: Armed<T> | undefined;
  for (const entry of list) {
    if (!entry.matches(subject)) continue;
    entry.remaining--;
    if (entry.remaining <= 0 && !fired) fired = entry; // a second one due now fires next time
  }
  const index = fired ? list.indexOf(fired) : -1;
  if (index >= 0) list.splice(index, 1);
  return fired?.fault;
}
