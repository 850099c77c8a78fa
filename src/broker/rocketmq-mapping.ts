// One log, two protocols (DESIGN.md §2): how a RocketMQ message is stored as a
// Kafka record and read back. Body ↔ value, KEYS ↔ key, every other property
// (TAGS, UNIQ_KEY, user properties) ↔ a header, born timestamp ↔ timestamp.
// RocketMQ fields a Kafka record has no place for travel in headers named
// `__rmq.*`, written only when not the default, and never shown to RocketMQ
// consumers as properties.

import { assert } from '../storage/errors.ts';
import { rawHeadersJoinedSize, writeRawHeadersJoined, type DecodedRecord, type HeaderInput, type RecordHeader, type RecordInput } from '../storage/records.ts';

export const KEYS_PROPERTY = 'KEYS';
/** Header prefix of RocketMQ fields without a Kafka equivalent. */
export const INTERNAL_HEADER_PREFIX = '__rmq.';
export const FLAG_HEADER = '__rmq.flag';
export const RECONSUME_TIMES_HEADER = '__rmq.reconsumeTimes';

export interface RocketmqMessage {
  body: Buffer;
  /** Properties in their original order (KEYS included). */
  properties: ReadonlyArray<readonly [string, string]>;
  /** User flag (Message.flag). */
  flag: number;
  bornTimestampMs: number;
  reconsumeTimes: number;
}

export function toRecord(message: RocketmqMessage): RecordInput & { headers: HeaderInput[] } {
  let key: Buffer | null = null;
  // Property values stay strings: the batch builder writes them without a Buffer each.
  const headers: HeaderInput[] = [];
  for (const [name, value] of message.properties) {
    if (name === KEYS_PROPERTY) key = Buffer.from(value, 'utf8');
    else headers.push({ key: name, value });
  }
  if (message.flag !== 0) headers.push({ key: FLAG_HEADER, value: String(message.flag) });
  if (message.reconsumeTimes !== 0) headers.push({ key: RECONSUME_TIMES_HEADER, value: String(message.reconsumeTimes) });
  return { key, value: message.body, headers, timestampMs: message.bornTimestampMs };
}

export interface RecordAsMessage {
  body: Buffer;
  /** KEYS (from the record key) first, then the headers as properties. */
  properties: Array<[string, string]>;
  flag: number;
  reconsumeTimes: number;
}

const EMPTY = Buffer.alloc(0);

export function fromRecord(record: DecodedRecord): RecordAsMessage {
  assert(record.rawHeaders === undefined, 'fromRecord needs every header decoded');
  const properties: Array<[string, string]> = [];
  let flag = 0;
  let reconsumeTimes = 0;
  if (record.key !== null && record.key.length > 0) properties.push([KEYS_PROPERTY, record.key.toString('utf8')]);
  for (const h of record.headers) {
    if (h.key.startsWith(INTERNAL_HEADER_PREFIX)) {
      const n = h.value === null ? 0 : Number(h.value.toString('latin1'));
      if (h.key === FLAG_HEADER && Number.isInteger(n)) flag = n | 0;
      else if (h.key === RECONSUME_TIMES_HEADER && Number.isInteger(n)) reconsumeTimes = n | 0;
      continue;
    }
    properties.push([h.key, h.value === null ? '' : h.value.toString('utf8')]);
  }
  return { body: record.value ?? EMPTY, properties, flag, reconsumeTimes };
}

/** A record's property value by name without building the whole map (filters, lookups). */
export function recordProperty(record: DecodedRecord, name: string): string | undefined {
  assert(record.rawHeaders === undefined, 'recordProperty needs every header decoded');
  if (name === KEYS_PROPERTY) return record.key === null ? undefined : record.key.toString('utf8');
  for (const h of record.headers) if (h.key === name) return h.value === null ? '' : h.value.toString('utf8');
  return undefined;
}

const NAME_VALUE_SEPARATOR = 1;
const PROPERTY_SEPARATOR = 2;
const KEYS_BYTES = Buffer.from(KEYS_PROPERTY, 'latin1');

export interface RecordWireProperties {
  /** The RocketMQ properties string (`k 0x01 v 0x02`…) as UTF-8 bytes. */
  properties: Buffer;
  flag: number;
  reconsumeTimes: number;
}

/**
 * What fromRecord gives, straight as the bytes of the properties string: the
 * pull path's form, one allocation per message (values are copied as stored,
 * never decoded to strings and encoded again).
 */
export function recordWireProperties(record: DecodedRecord): RecordWireProperties {
  let size = 0;
  let flag = 0;
  let reconsumeTimes = 0;
  const key = record.key;
  if (key !== null && key.length > 0) size += KEYS_BYTES.length + key.length + 2;
  const headers = record.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.key.startsWith(INTERNAL_HEADER_PREFIX)) {
      const n = h.value === null ? 0 : Number(h.value.toString('latin1'));
      if (h.key === FLAG_HEADER && Number.isInteger(n)) flag = n | 0;
      else if (h.key === RECONSUME_TIMES_HEADER && Number.isInteger(n)) reconsumeTimes = n | 0;
      continue;
    }
    size += Buffer.byteLength(h.key, 'utf8') + (h.value?.length ?? 0) + 2;
  }
  // Headers a pull kept encoded (readRecordsFromKeeping): none of them is internal; copied as bytes.
  const raw = record.rawHeaders;
  const rawSize = raw === undefined ? 0 : rawHeadersJoinedSize(raw);
  size += rawSize;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (key !== null && key.length > 0) {
    pos += KEYS_BYTES.copy(out, pos);
    out[pos++] = NAME_VALUE_SEPARATOR;
    pos += key.copy(out, pos);
    out[pos++] = PROPERTY_SEPARATOR;
  }
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.key.startsWith(INTERNAL_HEADER_PREFIX)) continue;
    pos += out.write(h.key, pos, 'utf8');
    out[pos++] = NAME_VALUE_SEPARATOR;
    if (h.value !== null) pos += h.value.copy(out, pos);
    out[pos++] = PROPERTY_SEPARATOR;
  }
  if (raw !== undefined) pos = writeRawHeadersJoined(raw, out, pos, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR, rawSize);
  return { properties: out, flag, reconsumeTimes };
}
