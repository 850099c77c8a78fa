// Hand-written runtime of the Kafka codecs: the generated code in ../generated
// is written against these.
export {
  KafkaDecodeError,
  KafkaEncodeError,
  decodeVersionError,
  encodeVersionError,
  nonIgnorableError,
  nullFieldError,
} from './errors.ts';
export type { KafkaDecodeErrorCode, KafkaEncodeErrorCode } from './errors.ts';
export { Reader } from './reader.ts';
export { Writer } from './writer.ts';
export type { WriterOptions, WriterOutput } from './writer.ts';
export { ZERO_UUID, METADATA_TOPIC_UUID, isUuid, uuidFromBytes, uuidToBytes, uuidToKafkaString, uuidFromKafkaString } from './uuid.ts';
export { INT64_MAX, INT64_MIN, int64FromParts, int64ToParts, uvarintSize, varintSize, varlongSize } from './varint.ts';
export type { Init, InitOf } from './types.ts';

/** A shared zero-length Buffer (default of non-nullable bytes fields). Never write into it. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
