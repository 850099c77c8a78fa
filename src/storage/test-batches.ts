// RecordBatch v2 blobs for tests and benchmarks: thin helpers over records.ts.
import { buildRecordBatch } from './records.ts';

export interface TestRecord {
  value: Uint8Array | null;
  key?: Uint8Array | null;
  timestampMs?: number;
}

const toBuffer = (b: Uint8Array | null | undefined): Buffer | null =>
  b === null || b === undefined ? null : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** An uncompressed v2 batch; baseOffset 0 (the log assigns it), CRC filled in. */
export function buildBatch(records: readonly TestRecord[], options: { baseTimestampMs?: number; producerId?: number } = {}): Buffer {
  const base = options.baseTimestampMs ?? records[0]?.timestampMs ?? 0;
  return buildRecordBatch(
    records.map((r) => ({ key: toBuffer(r.key), value: toBuffer(r.value), timestampMs: r.timestampMs ?? base })),
    options.producerId === undefined ? {} : { producerId: options.producerId },
  );
}

/** `count` records of `valueBytes` each, values filled from `seed`. */
export function buildSimpleBatch(count: number, valueBytes: number, seed = 0, timestampMs = 1_700_000_000_000): Buffer {
  const records: TestRecord[] = [];
  for (let i = 0; i < count; i++) records.push({ value: Buffer.alloc(valueBytes, (seed + i) & 0xff), timestampMs: timestampMs + i });
  return buildBatch(records);
}
