// Errors of the Kafka codec runtime. Every failure to decode untrusted bytes is a
// KafkaDecodeError with a stable `code` (never a RangeError or TypeError), so the
// network layer can map it to "close the connection" in one place. Encoding
// failures are programming errors of the caller and throw KafkaEncodeError.

export type KafkaDecodeErrorCode =
  /** the input ended before a value was complete */
  | 'TRUNCATED'
  /** a length or count is negative (other than the -1 null marker), or above its type's limit */
  | 'INVALID_LENGTH'
  /** an int64 (or varlong) outside ±(2^53-1) that is not the Long.MIN/MAX_VALUE sentinel */
  | 'UNSAFE_INT64'
  /** an unsigned varint longer than 5 bytes or above 2^32-1, or a varlong longer than 10 bytes */
  | 'INVALID_VARINT'
  /** null was sent for a field that is not nullable in this version */
  | 'NULL_NOT_ALLOWED'
  /** a known tagged field whose content does not fill exactly its declared size */
  | 'INVALID_TAGGED_FIELD'
  /** the message does not exist at this version */
  | 'UNSUPPORTED_VERSION';

export class KafkaDecodeError extends Error {
  readonly code: KafkaDecodeErrorCode;
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;
  constructor(code: KafkaDecodeErrorCode, message: string, offset: number) {
    super(message);
    this.name = 'KafkaDecodeError';
    this.code = code;
    this.offset = offset;
  }
}

export type KafkaEncodeErrorCode =
  /** the message does not exist at this version */
  | 'UNSUPPORTED_VERSION'
  /** a field absent at this version holds a non-default value and is not ignorable */
  | 'NON_IGNORABLE_FIELD'
  /** null given for a field that is not nullable at this version */
  | 'NULL_NOT_ALLOWED'
  /** a number does not fit its wire type (or an int64 is not a safe integer / sentinel) */
  | 'OUT_OF_RANGE'
  /** a string longer than 32767 UTF-8 bytes, or a collection/bytes longer than the wire allows */
  | 'TOO_LONG'
  /** a uuid string that is not 8-4-4-4-12 hex */
  | 'INVALID_UUID';

export class KafkaEncodeError extends Error {
  readonly code: KafkaEncodeErrorCode;
  constructor(code: KafkaEncodeErrorCode, message: string) {
    super(message);
    this.name = 'KafkaEncodeError';
    this.code = code;
  }
}

// ---- constructors used by the generated codecs ----

export function decodeVersionError(message: string, version: number, offset: number): KafkaDecodeError {
  return new KafkaDecodeError('UNSUPPORTED_VERSION', `${message} has no version ${version}`, offset);
}

export function encodeVersionError(message: string, version: number): KafkaEncodeError {
  return new KafkaEncodeError('UNSUPPORTED_VERSION', `${message} has no version ${version}`);
}

export function nonIgnorableError(field: string, version: number): KafkaEncodeError {
  return new KafkaEncodeError('NON_IGNORABLE_FIELD',
    `${field} holds a non-default value but does not exist at version ${version} and is not ignorable`);
}

export function nullFieldError(field: string, version: number): KafkaEncodeError {
  return new KafkaEncodeError('NULL_NOT_ALLOWED', `${field} is null but not nullable at version ${version}`);
}
