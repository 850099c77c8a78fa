// Storage errors carry a stable string code; the broker maps codes to protocol
// error codes in one table. Messages say what was wrong and where.

export type StorageErrorCode =
  /** fewer bytes than a batch header, or batchLength pointing past the buffer */
  | 'BATCH_TRUNCATED'
  /** batchLength below the v2 header size or above the allowed maximum */
  | 'BATCH_LENGTH_INVALID'
  /** magic byte other than 2 */
  | 'BATCH_MAGIC_UNSUPPORTED'
  /** CRC32C over attributes..end does not match */
  | 'BATCH_CRC_MISMATCH'
  /** record count or lastOffsetDelta inconsistent */
  | 'BATCH_RECORDS_INVALID'
  /** offset below the log start or above the log end */
  | 'OFFSET_OUT_OF_RANGE'
  /** the log was closed or deleted */
  | 'LOG_CLOSED'
  /** an fdatasync failed; the log refuses further writes (its page cache state is unknown) */
  | 'LOG_FAILED'
  /** another live process holds the data directory */
  | 'DIR_LOCKED'
  /** an argument broke the API contract */
  | 'INVALID_ARGUMENT';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

/** TigerBeetle-style invariant check: a false here is a bug, never bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) invariantFailed(message);
}

/**
 * The failing half of assert, for checks run per record or per message: `if (!ok) invariantFailed(`...${x}`)`
 * builds its message only when the invariant breaks (an assert's template literal is built on every call).
 */
export function invariantFailed(message: string): never {
  throw new Error(`invariant violated: ${message}`);
}
