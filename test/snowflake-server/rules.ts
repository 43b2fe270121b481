/**
 * What real Snowflake refuses (or what the loader must never ask of it), enforced by the test
 * server so a test fails where production would. Each rule has a test in server.test.ts.
 *
 * - Request size: Snowflake recommends at most 1 MB of SQL text per statement, bound values and
 *   batches included ("Limits on query text size"). Larger requests run on Snowflake but cannot
 *   be retried; this server refuses them outright (`maxRequestBytes`).
 * - Stage binding: above CLIENT_STAGE_ARRAY_BINDING_THRESHOLD bound values the driver uploads the
 *   binds to a temporary stage (CREATE TEMPORARY STAGE SYSTEM$BIND, PUT, then `bindStage`), which
 *   needs privileges the loader's role does not have: refused as insufficient privileges.
 * - Array binds: documented for `INSERT … VALUES (?, …)` and `INSERT … SELECT … FROM VALUES
 *   (?, …)` only (VALUES takes constants, so a function around a placeholder belongs in the
 *   SELECT list): any other statement with array binds is refused (see parseArrayBindInsert).
 * - HLL_IMPORT: documented for an OBJECT; a VARIANT (or text) argument must be cast.
 */
import { closingParen, parseArrayBindInsert } from './translate.js';

/** A statement Snowflake (or the loader's role) would refuse; `code` and `sqlState` as the driver reports them. */
export class RuleViolation extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** The code of a refused stage binding (insufficient privileges). */
export const STAGE_BINDING_REFUSED = '003001';

/** Snowflake's advice: 1 MB of SQL text and bound data per request. */
export const MAX_REQUEST_BYTES = 1_000_000;

/** SQL text plus bound values, as the driver puts them in the request body. */
export function requestBytes(sqlText: string, bindings: unknown): number {
  return Buffer.byteLength(sqlText) + (bindings === undefined ? 0 : Buffer.byteLength(JSON.stringify(bindings)));
}

export function checkRequest(sqlText: string, bindings: unknown, bindStage: unknown, maxRequestBytes: number): void {
  const bytes = requestBytes(sqlText, bindings);
  if (bytes > maxRequestBytes) {
    throw new RuleViolation(
      '000900',
      '54000',
      `SQL compilation error: the request carries ${bytes} bytes of SQL text and bound values; Snowflake advises at most ` +
        `${maxRequestBytes} per statement (limits on query text size), and this test server refuses more`,
    );
  }
  if (bindStage !== undefined || /^\s*(?:PUT\s|CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?STAGE\b)/i.test(sqlText)) {
    throw new RuleViolation(
      STAGE_BINDING_REFUSED,
      '42501',
      'SQL access control error: Insufficient privileges to operate on schema (stage binding needs CREATE STAGE; the loader must keep array binds inline)',
    );
  }
}

/** Refuses array binds outside the documented INSERT shapes. */
export function checkArrayBind(sqlText: string): void {
  if (!parseArrayBindInsert(sqlText)) {
    throw new RuleViolation(
      '002049',
      '22000',
      'SQL compilation error: array binds are documented for INSERT … VALUES (?, …) and INSERT … SELECT … FROM VALUES (?, …) only; ' +
        'VALUES takes bind variables and constants, a function of a bound value goes in the SELECT list',
    );
  }
}

const OBJECT_ARGUMENT = /^(?:CAST\s*\([\s\S]*\bAS\s+OBJECT\s*\)|[\s\S]*::\s*OBJECT|(?:TO_OBJECT|OBJECT_CONSTRUCT(?:_KEEP_NULL)?)\s*\([\s\S]*\))$/i;

/** HLL_IMPORT's argument must be an OBJECT: an explicit cast or an object constructor. */
export function checkHllImport(sqlText: string): void {
  const text = sqlText.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  for (const match of text.matchAll(/\bHLL_IMPORT\s*\(/gi)) {
    const open = match.index + match[0].length - 1;
    const close = closingParen(text, open);
    const argument = text.slice(open + 1, close < 0 ? undefined : close).trim();
    if (!OBJECT_ARGUMENT.test(argument)) {
      throw new RuleViolation(
        '001044',
        '42P13',
        `SQL compilation error: Invalid argument types for function 'HLL_IMPORT': ${argument} is not an OBJECT (cast it: CAST(… AS OBJECT))`,
      );
    }
  }
}
