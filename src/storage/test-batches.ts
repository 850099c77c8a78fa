// Builds valid RecordBatch v2 blobs for tests and benchmarks (uncompressed).
import { crc32c } from '@node-rs/crc32';
import { ATTRIBUTES, CRC, writeInt32, writeInt64 } from './record-batch.ts';

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varintLength(n: number): number {
  let v = zigzag(n);
  let len = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let v = zigzag(n);
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

export interface TestRecord {
  value: Uint8Array | null;
  key?: Uint8Array | null;
  timestampMs?: number;
}

/** An uncompressed v2 batch; baseOffset 0 (the log assigns it), CRC filled in. */
export function buildBatch(records: readonly TestRecord[], options: { baseTimestampMs?: number; producerId?: number } = {}): Buffer {
  const baseTimestamp = options.baseTimestampMs ?? records[0]?.timestampMs ?? 0;
  let maxTimestamp = baseTimestamp;
  const bodies: Array<{ len: number; ts: number; r: TestRecord }> = [];
  let recordsBytes = 0;
  records.forEach((r, i) => {
    const ts = r.timestampMs ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const key = r.key ?? null;
    const value = r.value;
    const len =
      1 + varintLength(ts - baseTimestamp) + varintLength(i) +
      (key === null ? varintLength(-1) : varintLength(key.length) + key.length) +
      (value === null ? varintLength(-1) : varintLength(value.length) + value.length) +
      varintLength(0);
    bodies.push({ len, ts, r });
    recordsBytes += varintLength(len) + len;
  });
  const buf = Buffer.alloc(61 + recordsBytes);
  writeInt64(buf, 0, 0);
  writeInt32(buf, 8, buf.length - 12);
  writeInt32(buf, 12, -1);
  buf[16] = 2;
  buf.writeInt16BE(0, 21);
  writeInt32(buf, 23, records.length - 1);
  writeInt64(buf, 27, baseTimestamp);
  writeInt64(buf, 35, maxTimestamp);
  writeInt64(buf, 43, options.producerId ?? -1);
  buf.writeInt16BE(-1, 51);
  writeInt32(buf, 53, -1);
  writeInt32(buf, 57, records.length);
  let pos = 61;
  bodies.forEach(({ len, ts, r }, i) => {
    pos = writeVarint(buf, pos, len);
    buf[pos++] = 0;
    pos = writeVarint(buf, pos, ts - baseTimestamp);
    pos = writeVarint(buf, pos, i);
    const key = r.key ?? null;
    if (key === null) pos = writeVarint(buf, pos, -1);
    else {
      pos = writeVarint(buf, pos, key.length);
      buf.set(key, pos);
      pos += key.length;
    }
    if (r.value === null) pos = writeVarint(buf, pos, -1);
    else {
      pos = writeVarint(buf, pos, r.value.length);
      buf.set(r.value, pos);
      pos += r.value.length;
    }
    pos = writeVarint(buf, pos, 0);
  });
  writeInt32(buf, CRC, crc32c(buf.subarray(ATTRIBUTES)) >>> 0);
  return buf;
}

/** `count` records of `valueBytes` each, values filled from `seed`. */
export function buildSimpleBatch(count: number, valueBytes: number, seed = 0, timestampMs = 1_700_000_000_000): Buffer {
  const records: TestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const value = Buffer.alloc(valueBytes, (seed + i) & 0xff);
    records.push({ value, timestampMs: timestampMs + i });
  }
  return buildBatch(records, { baseTimestampMs: timestampMs });
}
