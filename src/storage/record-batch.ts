// Kafka RecordBatch v2 header view: the canonical on-disk format (DESIGN.md §3).
// Only the fixed 61-byte header is read or patched; records stay undecoded
// except in timestamp refinement, which walks uncompressed record headers.
//
// Layout (big-endian):
//   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8
//   17 crc u32 (CRC32C of bytes 21..end) | 21 attributes i16 | 23 lastOffsetDelta i32
//   27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16
//   53 baseSequence i32 | 57 recordCount i32 | 61 records

import { crc32c } from '@node-rs/crc32';
import { decompress } from './compression.ts';
import { StorageError } from './errors.ts';

export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORD_COUNT = 57;
export const RECORDS = 61;

/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
export const BATCH_HEADER_BYTES = 61;
export const CURRENT_MAGIC = 2;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE_LOG_APPEND = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

const TWO_POW_32 = 0x1_0000_0000;

/** Reads an int64 as a Number. Exact for |v| < 2^53, which callers assert for offsets. */
export function readInt64(buf: Uint8Array, pos: number): number {
  const hi = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) | 0;
  const lo = ((buf[pos + 4]! << 24) | (buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) >>> 0;
  return hi * TWO_POW_32 + lo;
}

/** Writes a Number as int64 without allocating a BigInt. */
export function writeInt64(buf: Uint8Array, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  const lo = value - hi * TWO_POW_32;
  writeInt32(buf, pos, hi | 0);
  writeInt32(buf, pos + 4, lo >>> 0);
}

export function readInt32(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) | 0;
}

export function readUInt32(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos) >>> 0;
}

export function writeInt32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}

export function readInt16(buf: Uint8Array, pos: number): number {
  return (((buf[pos]! << 8) | buf[pos + 1]!) << 16) >> 16;
}

/** Total bytes of the batch starting at `pos` (header fields only, not validated). */
export function batchSize(buf: Uint8Array, pos: number): number {
  return LOG_OVERHEAD + readInt32(buf, pos + BATCH_LENGTH);
}

export function batchLastOffset(buf: Uint8Array, pos: number): number {
  return readInt64(buf, pos + BASE_OFFSET) + readInt32(buf, pos + LAST_OFFSET_DELTA);
}

export function computeBatchCrc(buf: Uint8Array, pos: number, size: number): number {
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return crc32c(view.subarray(pos + ATTRIBUTES, pos + size)) >>> 0;
}

/** Why a batch at a position is not valid, or null when it is. Used by recovery, which must not throw. */
export function checkBatch(buf: Uint8Array, pos: number, end: number, maxBatchBytes: number): string | null {
  if (end - pos < BATCH_HEADER_BYTES) return 'truncated header';
  const batchLength = readInt32(buf, pos + BATCH_LENGTH);
  if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD) return `batchLength ${batchLength} below the v2 header`;
  const size = LOG_OVERHEAD + batchLength;
  if (size > maxBatchBytes) return `batch of ${size} bytes above the ${maxBatchBytes}-byte maximum`;
  if (size > end - pos) return 'truncated batch';
  if (buf[pos + MAGIC] !== CURRENT_MAGIC) return `magic ${buf[pos + MAGIC]}`;
  if (readInt32(buf, pos + LAST_OFFSET_DELTA) < 0) return 'negative lastOffsetDelta';
  if (readUInt32(buf, pos + CRC) !== computeBatchCrc(buf, pos, size)) return 'CRC mismatch';
  return null;
}

/**
 * Validates every batch in `buf` for an append and returns how many batches it holds.
 * Producers must send dense batches: recordCount >= 1 and lastOffsetDelta = recordCount - 1.
 */
export function validateBatchesForAppend(buf: Uint8Array, maxBatchBytes: number): number {
  if (buf.length < BATCH_HEADER_BYTES) {
    throw new StorageError('BATCH_TRUNCATED', `${buf.length} bytes is shorter than a record batch header (${BATCH_HEADER_BYTES})`);
  }
  let pos = 0;
  let batches = 0;
  while (pos < buf.length) {
    const remaining = buf.length - pos;
    if (remaining < BATCH_HEADER_BYTES) {
      throw new StorageError('BATCH_TRUNCATED', `${remaining} trailing bytes at position ${pos} are shorter than a batch header`);
    }
    const batchLength = readInt32(buf, pos + BATCH_LENGTH);
    if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD) {
      throw new StorageError('BATCH_LENGTH_INVALID', `batchLength ${batchLength} at position ${pos} is below the v2 header size`);
    }
    const size = LOG_OVERHEAD + batchLength;
    if (size > maxBatchBytes) {
      throw new StorageError('BATCH_LENGTH_INVALID', `batch of ${size} bytes at position ${pos} exceeds the ${maxBatchBytes}-byte maximum`);
    }
    if (size > remaining) {
      throw new StorageError('BATCH_TRUNCATED', `batchLength ${batchLength} at position ${pos} points past the ${buf.length}-byte buffer`);
    }
    const magic = buf[pos + MAGIC]!;
    if (magic !== CURRENT_MAGIC) {
      throw new StorageError('BATCH_MAGIC_UNSUPPORTED', `magic ${magic} at position ${pos}; only record batch v2 (magic 2) is stored`);
    }
    const expected = readUInt32(buf, pos + CRC);
    const actual = computeBatchCrc(buf, pos, size);
    if (expected !== actual) {
      throw new StorageError('BATCH_CRC_MISMATCH', `CRC32C 0x${expected.toString(16)} at position ${pos} does not match the computed 0x${actual.toString(16)}`);
    }
    const count = readInt32(buf, pos + RECORD_COUNT);
    const lastOffsetDelta = readInt32(buf, pos + LAST_OFFSET_DELTA);
    if (count < 1 || lastOffsetDelta !== count - 1) {
      throw new StorageError('BATCH_RECORDS_INVALID', `batch at position ${pos} has recordCount ${count} and lastOffsetDelta ${lastOffsetDelta}; expected at least one record and lastOffsetDelta = recordCount - 1`);
    }
    pos += size;
    batches++;
  }
  return batches;
}

/** Sets LogAppendTime on a batch: timestamp-type bit and maxTimestamp are under the CRC, so it is recomputed. */
export function stampLogAppendTime(buf: Buffer, pos: number, size: number, nowMs: number): void {
  buf[pos + ATTRIBUTES + 1] = buf[pos + ATTRIBUTES + 1]! | ATTR_TIMESTAMP_TYPE_LOG_APPEND;
  writeInt64(buf, pos + MAX_TIMESTAMP, nowMs);
  writeInt32(buf, pos + CRC, computeBatchCrc(buf, pos, size));
}

/**
 * Reads a zig-zag varint (Kafka varint / varlong up to 2^53) at `state.pos`, advancing it.
 * Returns NaN when the buffer ends first.
 */
export function readVarlong(buf: Uint8Array, state: { pos: number }, end: number): number {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (state.pos >= end) return NaN;
    const b = buf[state.pos++]!;
    value += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) {
      // zig-zag decode without 32-bit truncation
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
    multiplier *= 128;
  }
  return NaN;
}

/**
 * The first record in a batch whose timestamp is >= `timestampMs`, or null when
 * none is. Compressed batches are decompressed for this (ListOffsets by time).
 */
export function firstRecordAtOrAfterTimestamp(buf: Buffer, pos: number, timestampMs: number): { offset: number; timestampMs: number } | null {
  const baseOffset = readInt64(buf, pos + BASE_OFFSET);
  const attributes = readInt16(buf, pos + ATTRIBUTES);
  if ((attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0) {
    const appendTime = readInt64(buf, pos + MAX_TIMESTAMP);
    return appendTime >= timestampMs ? { offset: baseOffset, timestampMs: appendTime } : null;
  }
  const baseTimestamp = readInt64(buf, pos + BASE_TIMESTAMP);
  const count = readInt32(buf, pos + RECORD_COUNT);
  const end = pos + batchSize(buf, pos);
  const codec = attributes & ATTR_COMPRESSION_MASK;
  const records = codec === 0 ? buf : decompress(codec, buf.subarray(pos + RECORDS, end));
  const state = { pos: codec === 0 ? pos + RECORDS : 0 };
  const limit = codec === 0 ? end : records.length;
  for (let i = 0; i < count; i++) {
    const length = readVarlong(records, state, limit);
    if (!(length >= 0)) return null;
    const recordEnd = state.pos + length;
    state.pos++; // record attributes
    const timestampDelta = readVarlong(records, state, recordEnd);
    const offsetDelta = readVarlong(records, state, recordEnd);
    if (Number.isNaN(timestampDelta) || Number.isNaN(offsetDelta)) return null;
    if (baseTimestamp + timestampDelta >= timestampMs) return { offset: baseOffset + offsetDelta, timestampMs: baseTimestamp + timestampDelta };
    state.pos = recordEnd;
  }
  return null;
}
