/** Stable codes a caller can branch on; the message says what happened and the cause is attached. */
export type WarehouseErrorCode =
  | 'WAREHOUSE_CONNECT'
  | 'WAREHOUSE_MIGRATE'
  | 'WAREHOUSE_LOAD'
  | 'WAREHOUSE_QUERY'
  | 'WAREHOUSE_CONFIG';

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

/** Wraps any failure once, keeping an existing WarehouseError as it is. */
export function wrapWarehouseError(
  code: WarehouseErrorCode,
  message: string,
  cause: unknown,
  batchId?: string,
): WarehouseError {
  if (cause instanceof WarehouseError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new WarehouseError(code, `${message}: ${detail}`, { cause, batchId });
}
