/** Stable codes a caller can branch on; the message says what happened and the cause is attached. */
export type WarehouseErrorCode =
  | 'WAREHOUSE_CONNECT'
  | 'WAREHOUSE_MIGRATE'
  | 'WAREHOUSE_LOAD'
  | 'WAREHOUSE_QUERY'
  | 'WAREHOUSE_CONFIG'
  /** A wait passed WAREHOUSE_CONNECT_TIMEOUT_SECONDS or WAREHOUSE_STATEMENT_TIMEOUT_SECONDS. */
  | 'WAREHOUSE_TIMEOUT';

export class WarehouseError extends Error {
  override readonly name = 'WarehouseError';
  constructor(
    readonly code: WarehouseErrorCode,
    message: string,
    options?: { cause?: unknown; batchId?: string },
  ) {
    super(options?.batchId ? `${message} (batch ${options.batchId})` : message, { cause: options?.cause });
    this.batchId = options?.batchId;
  }
  readonly batchId: string | undefined;
}

/**
 * Wraps any failure once. An existing WarehouseError keeps its code and message; it only gains
 * the batch id when it had none (a timeout raised below the load, say).
 */
export function wrapWarehouseError(
  code: WarehouseErrorCode,
  message: string,
  cause: unknown,
  batchId?: string,
): WarehouseError {
  if (cause instanceof WarehouseError) {
    if (!batchId || cause.batchId) return cause;
    return new WarehouseError(cause.code, cause.message, { cause: cause.cause, batchId });
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new WarehouseError(code, `${message}: ${detail}`, { cause, batchId });
}

/** How a failure names the batches of one load: the batch id, or the first one and how many more. */
export function batchLabel(batches: readonly { batchId: string }[]): string | undefined {
  if (batches.length <= 1) return batches[0]?.batchId;
  return `${batches[0]!.batchId} and ${batches.length - 1} more`;
}
