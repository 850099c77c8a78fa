// Records inside a RecordBatch v2 (the storage format): building uncompressed
// batches for the broker's own logs and RocketMQ sends, and walking the
// records of an uncompressed batch. The hot path never calls these: produced
// batches are stored and fetched as opaque bytes.
//
// Record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
//         keyLength varint (-1 = null) | key | valueLength varint | value |
//         headerCount varint | [keyLength varint, key, valueLength varint, value]...

import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES,
  ATTR_COMPRESSION_MASK,
  BASE_OFFSET,
  BASE_TIMESTAMP,
  CRC,
  LOG_OVERHEAD,
  RECORD_COUNT,
  RECORDS,
  readInt16,
  readInt32,
  readInt64,
  readVarlong,
  writeInt32,
  writeInt64,
} from './record-batch.ts';
import { compress, decompress } from './compression.ts';
import { assert, invariantFailed, StorageError } from './errors.ts';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A header to write: a string value is written as its UTF-8 bytes (no Buffer made for it). */
export interface HeaderInput {
  key: string;
  value: Buffer | string | null;
}

/**
 * Headers kept encoded as a record holds them (key and value each behind its
 * varint length, back to back): copied from one record into another without
 * a string or Buffer made per header.
 */
export interface RawHeaders {
  bytes: Buffer;
  count: number;
}

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  /** Written first, verbatim; `headers` follow them. */
  rawHeaders?: RawHeaders | null;
  headers?: readonly HeaderInput[];
  timestampMs: number;
}

export interface BatchOptions {
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Attribute bits other than compression (e.g. transactional, control). */
  attributes?: number;
  /** Compression codec of the records payload (compression.ts CODEC_*); default none. */
  compression?: number;
}

export interface DecodedRecord {
  offset: number;
  timestampMs: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** readRecordAtKeeping: the headers left encoded (then not in `headers`). */
  rawHeaders?: RawHeaders;
}

function zigzagSize(n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function writeVarlong(buf: Buffer, pos: number, n: number): number {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

function bytesSize(b: Buffer | null): number {
  return b === null ? 1 : zigzagSize(b.length) + b.length;
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarlong(buf, pos, -1);
  pos = writeVarlong(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

// UTF-8 lengths of one record's header keys and string values, between sizing and
// writing it (reused: no per-record allocation; more headers than they hold grow them once).
let keyLengths = new Int32Array(64);
let valueLengths = new Int32Array(64);

// Header keys are short ASCII names (TAGS, UNIQ_KEY, __delay.at), and so are most
// RocketMQ property values: a loop over their char codes beats a call into the Buffer API.
const SHORT_TEXT_CHARS = 64;

function utf8Length(text: string): number {
  if (text.length > SHORT_TEXT_CHARS) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

/** Writes a string's length varint and its UTF-8 bytes (`bytes` from utf8Length). */
function writeText(buf: Buffer, pos: number, text: string, bytes: number): number {
  pos = writeVarlong(buf, pos, bytes);
  if (bytes !== text.length || bytes > SHORT_TEXT_CHARS) return pos + buf.write(text, pos, bytes, 'utf8');
  for (let i = 0; i < bytes; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + bytes;
}

/** Bytes of a record after its length varint; fills keyLengths (and valueLengths) for its headers. */
function recordBodySize(r: RecordInput, timestampDelta: number, offsetDelta: number): number {
  const headers = r.headers;
  const count = headers === undefined ? 0 : headers.length;
  if (count > keyLengths.length) {
    keyLengths = new Int32Array(count * 2);
    valueLengths = new Int32Array(count * 2);
  }
  const raw = r.rawHeaders;
  const rawCount = raw == null ? 0 : raw.count;
  let body = 1 + zigzagSize(timestampDelta) + zigzagSize(offsetDelta) + bytesSize(r.key) + bytesSize(r.value) + zigzagSize(rawCount + count);
  if (raw != null) body += raw.bytes.length;
  for (let j = 0; j < count; j++) {
    const h = headers![j]!;
    const keyBytes = utf8Length(h.key);
    keyLengths[j] = keyBytes;
    const value = h.value;
    if (typeof value === 'string') {
      const valueBytes = utf8Length(value);
      valueLengths[j] = valueBytes;
      body += zigzagSize(keyBytes) + keyBytes + zigzagSize(valueBytes) + valueBytes;
    } else body += zigzagSize(keyBytes) + keyBytes + bytesSize(value);
  }
  return body;
}

/** A record's body up to its own headers: attributes, deltas, key, value, header count and kept raw headers. */
function writeRecordFields(buf: Buffer, pos: number, r: RecordInput, timestampDelta: number, offsetDelta: number): number {
  buf[pos++] = 0;
  pos = writeVarlong(buf, pos, timestampDelta);
  pos = writeVarlong(buf, pos, offsetDelta);
  pos = writeBytes(buf, pos, r.key);
  pos = writeBytes(buf, pos, r.value);
  const headers = r.headers;
  const count = headers === undefined ? 0 : headers.length;
  const raw = r.rawHeaders;
  if (raw == null) pos = writeVarlong(buf, pos, count);
  else {
    pos = writeVarlong(buf, pos, raw.count + count);
    buf.set(raw.bytes, pos);
    pos += raw.bytes.length;
  }
  return pos;
}

/** Writes a record sized by recordBodySize (the length tables still holding its headers). */
function writeRecord(buf: Buffer, pos: number, r: RecordInput, body: number, timestampDelta: number, offsetDelta: number): number {
  pos = writeVarlong(buf, pos, body);
  pos = writeRecordFields(buf, pos, r, timestampDelta, offsetDelta);
  const headers = r.headers;
  const count = headers === undefined ? 0 : headers.length;
  for (let j = 0; j < count; j++) {
    const h = headers![j]!;
    pos = writeText(buf, pos, h.key, keyLengths[j]!);
    const value = h.value;
    pos = typeof value === 'string' ? writeText(buf, pos, value, valueLengths[j]!) : writeBytes(buf, pos, value);
  }
  return pos;
}

// ---- one pass: most records the broker builds are small (RocketMQ sends, schedules, offsets) ----
// They are written once into a reused scratch, each string's bytes and its length together, and the
// batch is cut out of it with one copy: no sizing walk over every header first. Larger ones (big
// values would be copied twice) take the two walks above.

/** Batches whose bound is past this are sized first (recordBodySize) and written in place. */
const SCRATCH_BYTES_MAX = 1024 * 1024;
let scratch = Buffer.allocUnsafe(64 * 1024);

/** The scratch, grown to hold `bytes`; null when that is more than it may hold. */
function scratchFor(bytes: number): Buffer | null {
  if (bytes > SCRATCH_BYTES_MAX) return null;
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(Math.min(SCRATCH_BYTES_MAX, Math.max(bytes, scratch.length * 2)));
  return scratch;
}

/** Most bytes a record's body can take (UTF-8: at most 3 bytes per UTF-16 unit; varints at their longest). */
function recordBodyBytesMax(r: RecordInput): number {
  // attributes, timestampDelta, offsetDelta, key and value lengths, header count
  let n = 1 + 10 + 5 + 5 + (r.key === null ? 0 : r.key.length) + 5 + (r.value === null ? 0 : r.value.length) + 5;
  const raw = r.rawHeaders;
  if (raw != null) n += raw.bytes.length;
  const headers = r.headers;
  if (headers !== undefined) {
    for (let j = 0; j < headers.length; j++) {
      const h = headers[j]!;
      const value = h.value;
      n += 5 + h.key.length * 3 + 5 + (value === null ? 0 : typeof value === 'string' ? value.length * 3 : value.length);
    }
  }
  return n;
}

/** Writes a string's length varint and UTF-8 bytes in one walk when it is short ASCII (a one-byte length). */
function writeTextOnePass(buf: Buffer, pos: number, text: string): number {
  const n = text.length;
  if (n < 64) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos + 1 + i] = c;
    }
    if (i === n) {
      buf[pos] = n * 2; // zigzag varint of n < 64: one byte
      return pos + 1 + n;
    }
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  pos = writeVarlong(buf, pos, bytes);
  return pos + buf.write(text, pos, bytes, 'utf8');
}

/**
 * Writes a record at `pos` without sizing it first: the body goes after a length
 * varint as long as the bound's, and moves back when the real one is shorter.
 */
function writeRecordOnePass(buf: Buffer, pos: number, r: RecordInput, timestampDelta: number, offsetDelta: number): number {
  const lengthBytesMax = zigzagSize(recordBodyBytesMax(r));
  const bodyAt = pos + lengthBytesMax;
  let p = writeRecordFields(buf, bodyAt, r, timestampDelta, offsetDelta);
  const headers = r.headers;
  const count = headers === undefined ? 0 : headers.length;
  for (let j = 0; j < count; j++) {
    const h = headers![j]!;
    p = writeTextOnePass(buf, p, h.key);
    const value = h.value;
    p = typeof value === 'string' ? writeTextOnePass(buf, p, value) : writeBytes(buf, p, value);
  }
  const body = p - bodyAt;
  const lengthBytes = zigzagSize(body);
  if (lengthBytes > lengthBytesMax) invariantFailed(`record body of ${body} bytes past its bound`);
  if (lengthBytes < lengthBytesMax) {
    buf.copyWithin(pos + lengthBytes, bodyAt, p);
    p -= lengthBytesMax - lengthBytes;
  }
  writeVarlong(buf, pos, body);
  return p;
}

/** The 61-byte batch header at `at` (CRC left for the caller); every byte is written. */
function writeBatchHeader(buf: Buffer, at: number, size: number, count: number, baseTimestamp: number, maxTimestamp: number, options: BatchOptions): void {
  writeInt64(buf, at + BASE_OFFSET, 0);
  writeInt32(buf, at + 8, size - LOG_OVERHEAD);
  writeInt32(buf, at + 12, -1);
  buf[at + 16] = 2;
  writeInt32(buf, at + CRC, 0);
  buf.writeInt16BE(options.attributes ?? 0, at + ATTRIBUTES);
  writeInt32(buf, at + 23, count - 1);
  writeInt64(buf, at + BASE_TIMESTAMP, baseTimestamp);
  writeInt64(buf, at + 35, maxTimestamp);
  writeInt64(buf, at + 43, options.producerId ?? -1);
  buf.writeInt16BE(options.producerEpoch ?? -1, at + 51);
  writeInt32(buf, at + 53, options.baseSequence ?? -1);
  writeInt32(buf, at + RECORD_COUNT, count);
}

const NO_OPTIONS: BatchOptions = {};

/** Builds one uncompressed v2 batch (baseOffset 0: the log assigns it) with a valid CRC. */
export function buildRecordBatch(records: readonly RecordInput[], options: BatchOptions = NO_OPTIONS): Buffer {
  if (records.length === 0) throw new StorageError('BATCH_RECORDS_INVALID', 'a batch needs at least one record');
  let bound = RECORDS;
  for (let i = 0; i < records.length; i++) bound += 5 + recordBodyBytesMax(records[i]!);
  const buf = scratchFor(bound);
  if (buf === null) return buildRecordBatchSized(records, options);
  const baseTimestamp = records[0]!.timestampMs;
  let maxTimestamp = baseTimestamp;
  let pos = RECORDS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.timestampMs > maxTimestamp) maxTimestamp = r.timestampMs;
    pos = writeRecordOnePass(buf, pos, r, r.timestampMs - baseTimestamp, i);
  }
  writeBatchHeader(buf, 0, pos, records.length, baseTimestamp, maxTimestamp, options);
  const codec = options.compression ?? 0;
  if (codec !== 0) return compressBatch(buf.subarray(0, pos), codec);
  const out = Buffer.allocUnsafe(pos);
  buf.copy(out, 0, 0, pos);
  writeInt32(out, CRC, crc32c(out.subarray(ATTRIBUTES)) >>> 0);
  return out;
}

/** buildRecordBatch for batches too large for the scratch: every record sized, then written in place (exported for tests). */
export function buildRecordBatchSized(records: readonly RecordInput[], options: BatchOptions = NO_OPTIONS): Buffer {
  const baseTimestamp = records[0]!.timestampMs;
  let maxTimestamp = baseTimestamp;
  let total = RECORDS;
  let body = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.timestampMs > maxTimestamp) maxTimestamp = r.timestampMs;
    body = recordBodySize(r, r.timestampMs - baseTimestamp, i);
    total += zigzagSize(body) + body;
  }
  const single = records.length === 1; // the length tables still hold its headers
  // Every byte is written below (header fields, then the records back to back).
  const buf = Buffer.allocUnsafe(total);
  writeBatchHeader(buf, 0, total, records.length, baseTimestamp, maxTimestamp, options);
  let pos = RECORDS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const timestampDelta = r.timestampMs - baseTimestamp;
    // Sized again right before writing: the length tables hold one record's headers at a time.
    pos = writeRecord(buf, pos, r, single ? body : recordBodySize(r, timestampDelta, i), timestampDelta, i);
  }
  assert(pos === total, `batch built ${pos} bytes, sized ${total}`);
  const codec = options.compression ?? 0;
  if (codec !== 0) return compressBatch(buf, codec);
  writeInt32(buf, CRC, crc32c(buf.subarray(ATTRIBUTES)) >>> 0);
  return buf;
}

/**
 * One uncompressed batch per record, back to back in one buffer (what
 * buildRecordBatch of each and a concat would give, without either's copies):
 * the delay service stores each schedule as its own batch so that firing reads
 * back just that one.
 */
export function buildRecordBatches(records: readonly RecordInput[], options: BatchOptions = NO_OPTIONS): Buffer {
  if (records.length === 0) throw new StorageError('BATCH_RECORDS_INVALID', 'a batch needs at least one record');
  assert((options.compression ?? 0) === 0, 'buildRecordBatches writes uncompressed batches');
  let bound = 0;
  for (let i = 0; i < records.length; i++) bound += RECORDS + 5 + recordBodyBytesMax(records[i]!);
  const buf = scratchFor(bound);
  if (buf === null) return buildRecordBatchesSized(records, options);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const end = writeRecordOnePass(buf, at + RECORDS, r, 0, 0);
    writeBatchHeader(buf, at, end - at, 1, r.timestampMs, r.timestampMs, options);
    writeInt32(buf, at + CRC, crc32c(buf.subarray(at + ATTRIBUTES, end)) >>> 0);
    at = end;
  }
  const out = Buffer.allocUnsafe(at);
  buf.copy(out, 0, 0, at);
  return out;
}

/** buildRecordBatches for records too large for the scratch: each sized, then written in place (exported for tests). */
export function buildRecordBatchesSized(records: readonly RecordInput[], options: BatchOptions = NO_OPTIONS): Buffer {
  let total = 0;
  let lastBody = 0;
  for (let i = 0; i < records.length; i++) {
    lastBody = recordBodySize(records[i]!, 0, 0);
    total += RECORDS + zigzagSize(lastBody) + lastBody;
  }
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    // The length tables hold the last record sized: a single one is not sized again.
    const body = records.length === 1 ? lastBody : recordBodySize(r, 0, 0);
    const size = RECORDS + zigzagSize(body) + body;
    writeBatchHeader(buf, at, size, 1, r.timestampMs, r.timestampMs, options);
    const end = writeRecord(buf, at + RECORDS, r, body, 0, 0);
    if (end !== at + size) invariantFailed(`batch built ${end - at} bytes, sized ${size}`);
    writeInt32(buf, at + CRC, crc32c(buf.subarray(at + ATTRIBUTES, end)) >>> 0);
    at = end;
  }
  return buf;
}

/** Re-packs an uncompressed batch (CRC not yet set) with its records compressed. */
function compressBatch(plain: Buffer, codec: number): Buffer {
  const payload = compress(codec, plain.subarray(RECORDS));
  const out = Buffer.allocUnsafe(RECORDS + payload.length);
  plain.copy(out, 0, 0, RECORDS);
  payload.copy(out, RECORDS);
  writeInt32(out, 8, out.length - LOG_OVERHEAD);
  out.writeInt16BE((out.readInt16BE(ATTRIBUTES) & ~ATTR_COMPRESSION_MASK) | codec, ATTRIBUTES);
  writeInt32(out, CRC, crc32c(out.subarray(ATTRIBUTES)) >>> 0);
  return out;
}

class Cursor {
  pos: number;
  readonly end: number;
  readonly buf: Buffer;
  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }
  varlong(): number {
    const value = readVarlong(this.buf, this, this.end);
    if (Number.isNaN(value)) throw corrupt('varint past the end of the batch or longer than 10 bytes');
    return value;
  }
  bytes(): Buffer | null {
    const length = this.varlong();
    if (length < 0) return null;
    if (this.pos + length > this.end) throw corrupt('field past the end of the record');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  /** Steps over a length-prefixed field. */
  skipBytes(): void {
    const length = this.varlong();
    if (length <= 0) return;
    if (this.pos + length > this.end) throw corrupt('field past the end of the record');
    this.pos += length;
  }
  /** True when the length-prefixed field at the cursor starts with `prefix` (the cursor does not move). */
  fieldStartsWith(prefix: Buffer): boolean {
    const at = this.pos;
    const length = this.varlong();
    const from = this.pos;
    this.pos = at;
    if (length < prefix.length || from + prefix.length > this.end) return false;
    // A byte loop: prefixes are a few bytes, below what Buffer.compare's argument checks cost.
    const buf = this.buf;
    for (let i = 0; i < prefix.length; i++) if (buf[from + i] !== prefix[i]) return false;
    return true;
  }
}

function corrupt(why: string): StorageError {
  return new StorageError('BATCH_RECORDS_INVALID', `corrupt record: ${why}`);
}

/** True when the batch at `pos` holds compressed records. */
export function isCompressed(batch: Buffer, pos = 0): boolean {
  return (readInt16(batch, pos + ATTRIBUTES) & ATTR_COMPRESSION_MASK) !== 0;
}

/**
 * Decodes the records of the batch at `pos`, decompressing when needed (keys
 * and values are views into `batch`, or into the decompressed payload).
 */
export function readRecords(batch: Buffer, pos = 0): DecodedRecord[] {
  return decodeRecords(batch, pos, 0, Infinity, false);
}

/** The record at `offset` of the batch at `pos`, or null; the others are skipped, not decoded. */
export function readRecordAt(batch: Buffer, pos: number, offset: number): DecodedRecord | null {
  return decodeRecords(batch, pos, offset, 1, true)[0] ?? null;
}

/**
 * readRecordAt, but of the headers only those whose key starts with `decodePrefix`
 * are decoded; the others stay encoded in `rawHeaders` (views of `batch`) when
 * they come after all of those, as one run — else every header is decoded.
 */
export function readRecordAtKeeping(batch: Buffer, pos: number, offset: number, decodePrefix: Buffer): DecodedRecord | null {
  return decodeRecords(batch, pos, offset, 1, true, decodePrefix)[0] ?? null;
}

/**
 * Up to `maxCount` records of the batch at `pos` from `fromOffset` on; those
 * before it are skipped without decoding their keys, values and headers (a
 * consumer resuming inside a batch, a pull that wants only a few).
 */
export function readRecordsFrom(batch: Buffer, pos: number, fromOffset: number, maxCount: number): DecodedRecord[] {
  return decodeRecords(batch, pos, fromOffset, maxCount, false);
}

/** readRecordsFrom, keeping headers encoded as readRecordAtKeeping does (those starting with `decodePrefix` first are decoded). */
export function readRecordsFromKeeping(batch: Buffer, pos: number, fromOffset: number, maxCount: number, decodePrefix: Buffer): DecodedRecord[] {
  return decodeRecords(batch, pos, fromOffset, maxCount, false, decodePrefix);
}

const RAW_STATE = { pos: 0 };

/**
 * Bytes of `raw` written as `key pairInner value pairEnd` per header (a null value as empty) — the
 * size `writeRawHeadersJoined` needs. Throws on headers that do not parse (they were checked when stored).
 */
export function rawHeadersJoinedSize(raw: RawHeaders): number {
  const buf = raw.bytes;
  const state = RAW_STATE;
  state.pos = 0;
  let size = 0;
  for (let i = 0; i < raw.count; i++) {
    const keyLength = readVarlong(buf, state, buf.length);
    if (!(keyLength >= 0) || state.pos + keyLength > buf.length) throw corrupt('raw header key');
    state.pos += keyLength;
    const valueLength = readVarlong(buf, state, buf.length);
    if (Number.isNaN(valueLength) || state.pos + Math.max(0, valueLength) > buf.length) throw corrupt('raw header value');
    if (valueLength > 0) state.pos += valueLength;
    size += keyLength + Math.max(0, valueLength) + 2;
  }
  return size;
}

/**
 * Writes `raw`'s headers at `pos` as `key pairInner value pairEnd` each; returns the position after them.
 * `joinedSize`: rawHeadersJoinedSize(raw), when the caller has it already (it sized `out` with it).
 */
export function writeRawHeadersJoined(raw: RawHeaders, out: Buffer, pos: number, pairInner: number, pairEnd: number, joinedSize: number = rawHeadersJoinedSize(raw)): number {
  const buf = raw.bytes;
  const state = RAW_STATE;
  if (raw.count > 0 && joinedSize === buf.length) {
    // Every length is a one-byte varint (the joined form is as long only then): the joined form is
    // the raw bytes one to the left, with each value length turned into pairInner and each next key
    // length into pairEnd. One copy instead of two per header (a pull copies ~7 per delayed message).
    buf.copy(out, pos, 1);
    state.pos = 0;
    for (let i = 0; i < raw.count; i++) {
      if (i > 0) out[pos + state.pos - 1] = pairEnd;
      state.pos += 1 + buf[state.pos]! / 2; // the key length: zigzag, one byte, not negative
      out[pos + state.pos - 1] = pairInner;
      const valueLength = readVarlong(buf, state, buf.length);
      if (valueLength > 0) state.pos += valueLength;
    }
    out[pos + buf.length - 1] = pairEnd;
    return pos + buf.length;
  }
  state.pos = 0;
  for (let i = 0; i < raw.count; i++) {
    const keyLength = readVarlong(buf, state, buf.length);
    pos += buf.copy(out, pos, state.pos, state.pos + keyLength);
    state.pos += keyLength;
    out[pos++] = pairInner;
    const valueLength = readVarlong(buf, state, buf.length);
    if (valueLength > 0) {
      pos += buf.copy(out, pos, state.pos, state.pos + valueLength);
      state.pos += valueLength;
    }
    out[pos++] = pairEnd;
  }
  return pos;
}

function decodeRecords(batch: Buffer, pos: number, fromOffset: number, maxCount: number, exact: boolean, decodePrefix: Buffer | null = null): DecodedRecord[] {
  const size = LOG_OVERHEAD + readInt32(batch, pos + 8);
  const codec = readInt16(batch, pos + ATTRIBUTES) & ATTR_COMPRESSION_MASK;
  const recordsBytes = codec === 0 ? undefined : decompress(codec, batch.subarray(pos + RECORDS, pos + size));
  const baseOffset = readInt64(batch, pos + BASE_OFFSET);
  const baseTimestamp = readInt64(batch, pos + BASE_TIMESTAMP);
  const count = readInt32(batch, pos + RECORD_COUNT);
  const logAppendTime = (readInt16(batch, pos + ATTRIBUTES) & 0x08) !== 0 ? readInt64(batch, pos + 35) : -1;
  const cursor = recordsBytes === undefined ? new Cursor(batch, pos + RECORDS, pos + size) : new Cursor(recordsBytes, 0, recordsBytes.length);
  const out: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = cursor.varlong();
    const end = cursor.pos + length;
    if (length < 0 || end > cursor.end) throw corrupt('record length');
    cursor.pos++; // attributes
    const timestampDelta = cursor.varlong();
    const offsetDelta = cursor.varlong();
    const offset = baseOffset + offsetDelta;
    if (offset < fromOffset || (exact && offset !== fromOffset)) {
      cursor.pos = end;
      continue;
    }
    if (out.length >= maxCount) break;
    const key = cursor.bytes();
    const value = cursor.bytes();
    const headerCount = cursor.varlong();
    if (headerCount < 0 || headerCount > length) throw corrupt('header count');
    const timestampMs = logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta;
    const headers: RecordHeader[] = [];
    const headersAt = cursor.pos;
    let h = 0;
    if (decodePrefix !== null) {
      // The decoded ones first, then the kept run to the end (checked: else all are decoded).
      while (h < headerCount && cursor.fieldStartsWith(decodePrefix)) {
        headers.push(decodeHeader(cursor));
        h++;
      }
      const rawAt = cursor.pos;
      let rawCount = 0;
      while (h + rawCount < headerCount && !cursor.fieldStartsWith(decodePrefix)) {
        cursor.skipBytes();
        cursor.skipBytes();
        rawCount++;
      }
      if (h + rawCount === headerCount) {
        const rawHeaders = { bytes: cursor.buf.subarray(rawAt, cursor.pos), count: rawCount };
        cursor.pos = end;
        out.push({ offset, timestampMs, key, value, headers, rawHeaders });
        continue;
      }
      cursor.pos = headersAt;
      headers.length = 0;
      h = 0;
    }
    for (; h < headerCount; h++) headers.push(decodeHeader(cursor));
    cursor.pos = end;
    out.push({ offset, timestampMs, key, value, headers });
  }
  return out;
}

/**
 * Where one record's fields lie in its batch (an uncompressed one): positions, not Buffers or
 * strings, for readers that compare or copy bytes (the delay service firing a schedule). Filled
 * by locateRecord; one is reused across calls.
 */
export interface RecordLocation {
  offset: number;
  timestampMs: number;
  keyStart: number;
  /** -1: a null key. */
  keyLength: number;
  valueStart: number;
  /** -1: a null value. */
  valueLength: number;
  headerCount: number;
  /** Position of the first header (after the count); the headers run to `end`, the record's end. */
  headersStart: number;
  end: number;
}

export function newRecordLocation(): RecordLocation {
  return { offset: -1, timestampMs: 0, keyStart: 0, keyLength: -1, valueStart: 0, valueLength: -1, headerCount: 0, headersStart: 0, end: 0 };
}

const LOCATE_STATE = { pos: 0 };

/**
 * Fills `loc` with the record at `offset` of the batch at `pos` (the records before it are
 * stepped over). False when the batch is compressed or does not hold `offset`; throws on a
 * record that does not parse.
 */
export function locateRecord(batch: Buffer, pos: number, offset: number, loc: RecordLocation): boolean {
  if (isCompressed(batch, pos)) return false;
  const end = pos + LOG_OVERHEAD + readInt32(batch, pos + 8);
  const baseOffset = readInt64(batch, pos + BASE_OFFSET);
  const count = readInt32(batch, pos + RECORD_COUNT);
  const logAppendTime = (readInt16(batch, pos + ATTRIBUTES) & 0x08) !== 0 ? readInt64(batch, pos + 35) : -1;
  const baseTimestamp = readInt64(batch, pos + BASE_TIMESTAMP);
  const state = LOCATE_STATE;
  state.pos = pos + RECORDS;
  for (let i = 0; i < count; i++) {
    const length = readVarlong(batch, state, end);
    const recordEnd = state.pos + length;
    if (!(length >= 0) || recordEnd > end) throw corrupt('record length');
    state.pos++; // attributes
    const timestampDelta = readVarlong(batch, state, recordEnd);
    const offsetDelta = readVarlong(batch, state, recordEnd);
    if (Number.isNaN(timestampDelta) || Number.isNaN(offsetDelta)) throw corrupt('record timestamp or offset delta');
    if (baseOffset + offsetDelta !== offset) {
      state.pos = recordEnd;
      continue;
    }
    loc.offset = offset;
    loc.timestampMs = logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta;
    loc.keyLength = readVarlong(batch, state, recordEnd);
    loc.keyStart = state.pos;
    if (Number.isNaN(loc.keyLength) || state.pos + Math.max(0, loc.keyLength) > recordEnd) throw corrupt('record key');
    if (loc.keyLength > 0) state.pos += loc.keyLength;
    loc.valueLength = readVarlong(batch, state, recordEnd);
    loc.valueStart = state.pos;
    if (Number.isNaN(loc.valueLength) || state.pos + Math.max(0, loc.valueLength) > recordEnd) throw corrupt('record value');
    if (loc.valueLength > 0) state.pos += loc.valueLength;
    loc.headerCount = readVarlong(batch, state, recordEnd);
    if (!(loc.headerCount >= 0) || loc.headerCount > length) throw corrupt('header count');
    loc.headersStart = state.pos;
    loc.end = recordEnd;
    return true;
  }
  return false;
}

/** A walk over the headers of a located record: nextHeader fills the key and value positions. */
export interface HeaderLocation {
  /** Where the next header starts; set it to RecordLocation.headersStart to begin. */
  pos: number;
  end: number;
  keyStart: number;
  keyLength: number;
  valueStart: number;
  /** -1: a null value. */
  valueLength: number;
}

export function newHeaderLocation(): HeaderLocation {
  return { pos: 0, end: 0, keyStart: 0, keyLength: 0, valueStart: 0, valueLength: -1 };
}

/** Steps `h` over the header at `h.pos`; throws when it runs past `h.end`. */
export function nextHeader(buf: Buffer, h: HeaderLocation): void {
  const keyLength = readVarlong(buf, h, h.end);
  if (!(keyLength >= 0) || h.pos + keyLength > h.end) throw corrupt('header key');
  h.keyStart = h.pos;
  h.keyLength = keyLength;
  h.pos += keyLength;
  const valueLength = readVarlong(buf, h, h.end);
  if (Number.isNaN(valueLength) || h.pos + Math.max(0, valueLength) > h.end) throw corrupt('header value');
  h.valueStart = h.pos;
  h.valueLength = valueLength;
  if (valueLength > 0) h.pos += valueLength;
}

function decodeHeader(cursor: Cursor): RecordHeader {
  const key = cursor.bytes();
  const value = cursor.bytes();
  return { key: key === null ? '' : key.toString('utf8'), value };
}

/** Calls `visit` for every whole batch in `bytes` (a read result), with its position and size. */
export function forEachBatch(bytes: Buffer, visit: (pos: number, size: number) => void): void {
  let pos = 0;
  while (pos + LOG_OVERHEAD <= bytes.length) {
    const size = LOG_OVERHEAD + readInt32(bytes, pos + 8);
    if (size < RECORDS || pos + size > bytes.length) return;
    visit(pos, size);
    pos += size;
  }
}
