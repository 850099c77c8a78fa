// Hand-written runtime of the Kafka codecs: the generated code in ../generated
// is written against these.
//
// Representation choices (shared by every generated message):
// - int64 → number. Exact within ±(2^53-1); Long.MAX_VALUE / Long.MIN_VALUE are
//   the sentinels ±2^63 (INT64_MAX/INT64_MIN, what the JS literals
//   ±9223372036854775807 evaluate to). Any other out-of-range value makes decoding
//   throw KafkaDecodeError('UNSAFE_INT64') and encoding KafkaEncodeError('OUT_OF_RANGE').
// - uuid → canonical lowercase text 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';
//   ZERO_UUID is the default. uuidToKafkaString/uuidFromKafkaString convert to and
//   from the base64 form Kafka's tools print.
// - bytes / records → Buffer views of the input (subarray, never copied); null
//   where the spec allows it. Keep the input alive and unmodified while in use.
// - Decoders return complete objects (absent fields hold their spec default);
//   encoders take Init<T> (any field may be missing = its default). Unknown
//   tagged fields are skipped on decode and not preserved.
//
// Framing a response without Buffer.concat:
//   const w = new Writer();
//   const at = w.reserve(4);                       // size prefix
//   writeResponseHeader(w, apiKey, apiVersion, correlationId);
//   APIS.Fetch.encodeResponse(w, body, apiVersion);
//   w.patchInt32(at, w.length - 4);
//   const { chunks } = w.finish();                 // socket.cork(); write each; uncork()
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
