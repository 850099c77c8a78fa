// Neutral error codes of the broker seam. Each protocol front end maps them to
// its own codes in one table (Kafka error codes, RocketMQ response codes).

export type BrokerErrorCode =
  | 'NONE'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'UNKNOWN_TOPIC_ID'
  | 'TOPIC_ALREADY_EXISTS'
  | 'INVALID_TOPIC'
  | 'INVALID_PARTITIONS'
  | 'INVALID_REPLICATION_FACTOR'
  | 'INVALID_CONFIG'
  | 'INVALID_REQUEST'
  | 'OFFSET_OUT_OF_RANGE'
  | 'CORRUPT_MESSAGE'
  | 'INVALID_RECORD'
  | 'MESSAGE_TOO_LARGE'
  | 'INVALID_TIMESTAMP'
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  | 'DUPLICATE_SEQUENCE_NUMBER'
  | 'INVALID_PRODUCER_EPOCH'
  | 'UNKNOWN_PRODUCER_ID'
  | 'UNSUPPORTED_FOR_MESSAGE_FORMAT'
  | 'TRANSACTIONAL_ID_NOT_SUPPORTED'
  | 'STORAGE_ERROR'
  | 'POLICY_VIOLATION'
  | 'GROUP_ID_NOT_FOUND'
  | 'NON_EMPTY_GROUP'
  | 'GROUP_SUBSCRIBED_TO_TOPIC'
  | 'UNKNOWN_SERVER_ERROR';

export class BrokerError extends Error {
  readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerError';
    this.code = code;
  }
}

/** Storage error codes as broker codes. */
export function fromStorageCode(code: string): BrokerErrorCode {
  switch (code) {
    case 'BATCH_CRC_MISMATCH':
      return 'CORRUPT_MESSAGE';
    case 'BATCH_TRUNCATED':
    case 'BATCH_LENGTH_INVALID':
    case 'BATCH_RECORDS_INVALID':
      return 'CORRUPT_MESSAGE';
    case 'BATCH_MAGIC_UNSUPPORTED':
      return 'UNSUPPORTED_FOR_MESSAGE_FORMAT';
    case 'OFFSET_OUT_OF_RANGE':
      return 'OFFSET_OUT_OF_RANGE';
    case 'LOG_FAILED':
    case 'LOG_CLOSED':
      return 'STORAGE_ERROR';
    case 'INVALID_ARGUMENT':
      return 'INVALID_REQUEST';
    default:
      return 'UNKNOWN_SERVER_ERROR';
  }
}
