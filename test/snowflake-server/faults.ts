/**
 * Fault injection for query requests. Tests switch faults on through `server.faults`; each rule
 * fires on matching `query-request`s (SQL text tested against `match`, all queries when
 * omitted), after letting `skip` of them through, at most `times` times (default 1).
 */

export type FaultAction =
  /** Answer `success:false` with this code (default `000603`, an internal error). */
  | { kind: 'fail'; code?: string; sqlState?: string; message?: string }
  /**
   * Destroy the socket without an answer. `before`: the statement never runs. `after`: it runs
   * (and commits, outside a transaction) but the answer is lost; the driver's retry carries the
   * same requestId and gets the stored answer, as Snowflake does, unless the server was started
   * with `dedupeRetries: false`.
   */
  | { kind: 'drop'; when: 'before' | 'after' }
  /** The statement takes `ms` longer; past `longQueryMs` the driver polls for the result. */
  | { kind: 'delay'; ms: number }
  /** The session token expires just before this query, which then fails with 390112. */
  | { kind: 'expire-token' }
  /** The statement does not start until `released` resolves: a test decides when it runs. */
  | { kind: 'hold'; released: Promise<void> };

export interface FaultRule {
  action: FaultAction;
  /** Only queries whose SQL text matches. */
  match?: RegExp;
  /** Matching queries to let through before the rule fires. Default 0. */
  skip?: number;
  /** How many times the rule fires. Default 1. */
  times?: number;
}

interface ActiveRule extends Required<Omit<FaultRule, 'match'>> {
  match: RegExp | undefined;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  /** Set by the server: expires every open session token now. */
  expireAllTokens: () => void = () => undefined;

  inject(rule: FaultRule): void {
    this.rules.push({ action: rule.action, match: rule.match, skip: rule.skip ?? 0, times: rule.times ?? 1 });
  }

  /** The n-th query request from now (1-based), or the n-th matching `match`, fails. */
  failNthQuery(n: number, options: { match?: RegExp; code?: string; sqlState?: string; message?: string } = {}): void {
    const { match, ...fail } = options;
    this.inject({ action: { kind: 'fail', ...fail }, match, skip: n - 1 });
  }

  /**
   * The next matching query is held, unanswered, until `release()`: what a statement stuck
   * behind a lock or a silent network looks like to the client.
   */
  hold(match?: RegExp): { release(): void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.inject({ action: { kind: 'hold', released }, match });
    return { release };
  }

  /** Every session token issued so far is expired; the next request of each session gets 390112. */
  expireSessionTokens(): void {
    this.expireAllTokens();
  }

  clear(): void {
    this.rules = [];
  }

  /** The actions that fire for this query, consuming them. */
  take(sql: string): FaultAction[] {
    const fired: FaultAction[] = [];
    for (const rule of this.rules) {
      if (rule.times <= 0 || (rule.match && !rule.match.test(sql))) continue;
      if (rule.skip > 0) {
        rule.skip--;
        continue;
      }
      rule.times--;
      fired.push(rule.action);
    }
    this.rules = this.rules.filter((rule) => rule.times > 0);
    return fired;
  }
}
