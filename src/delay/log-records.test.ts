import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODEC_GZIP } from '../storage/compression.ts';
import { buildRecordBatch, buildRecordBatches, forEachBatch, readRecordAtKeeping, type HeaderInput, type RecordInput } from '../storage/records.ts';
import { mulberry32 as rng } from '../storage/memory-file-io.ts';
import { BASE_OFFSET, writeInt64 } from '../storage/record-batch.ts';
import { CONTROL_PREFIX_BYTES, controlInput, decodeDelayRecord, scheduleForFiring, scheduleInput, type ScheduleRecord } from './log-records.ts';

const TOPICS = ['orders', 'Delay_Topic-1', 'ünïcode-tópic', 'x'];

function randomSchedule(r: () => number): RecordInput {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const headers: HeaderInput[] = [];
  const count = Math.floor(r() * 9);
  for (let i = 0; i < count; i++) headers.push({ key: pick(['TAGS', 'KEYS', 'UNIQ_KEY', 'a', 'ключ', '__rmq.flag', '']), value: pick([null, '', 'v', 'värde', bytes(5)]) });
  return scheduleInput({
    topic: pick(TOPICS),
    partition: Math.floor(r() * 3) === 0 ? 0 : Math.floor(r() * 10_000),
    deliverAtMs: Math.floor(r() * 2 ** 52),
    repeat: r() < 0.3 ? { intervalMs: 1 + Math.floor(r() * 1e6), multiplier: 1 + Math.floor(r() * 3), maxIntervalMs: null, times: r() < 0.5 ? null : 5, untilMs: null } : null,
    key: pick([null, Buffer.alloc(0), bytes(1 + Math.floor(r() * 40))]),
    value: pick([null, Buffer.alloc(0), bytes(1 + Math.floor(r() * 300))]),
    headers,
    timestampMs: 1_700_000_000_000 + Math.floor(r() * 1e9),
  });
}

/** What the general path gives for the record at `offset` (a firing: own headers kept encoded). */
function general(batch: Buffer, pos: number, offset: number): ScheduleRecord | null {
  const r = readRecordAtKeeping(batch, pos, offset, CONTROL_PREFIX_BYTES);
  if (r === null) return null;
  const record = decodeDelayRecord(r);
  return record.kind === 'schedule' ? record : null;
}

function comparable(s: ScheduleRecord | null | undefined): unknown {
  if (s == null) return s;
  return { ...s, key: s.key === null ? null : [...s.key], value: s.value === null ? null : [...s.value], rawHeaders: s.rawHeaders === null ? null : { bytes: [...s.rawHeaders.bytes], count: s.rawHeaders.count } };
}

test('scheduleForFiring reads every schedule as the general decode does (single-record and multi-record batches)', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const inputs = Array.from({ length: 1 + Math.floor(r() * 5) }, () => randomSchedule(r));
    const batches = seed % 2 === 0 ? buildRecordBatches(inputs) : buildRecordBatch(inputs);
    let base = 1000 * seed;
    forEachBatch(batches, (pos, size) => {
      writeInt64(batches, pos + BASE_OFFSET, base);
      const records = seed % 2 === 0 ? 1 : inputs.length;
      for (let i = 0; i < records; i++) {
        const fast = scheduleForFiring(batches, pos, base + i);
        assert.notEqual(fast, undefined, `seed ${seed}: a schedule as scheduleInput writes it takes the fast path`);
        assert.deepEqual(comparable(fast), comparable(general(batches, pos, base + i)), `seed ${seed} record ${i}`);
      }
      assert.equal(scheduleForFiring(batches, pos, base + records), null, `seed ${seed}: an offset the batch does not hold`);
      assert.equal(scheduleForFiring(batches, pos, base - 1), null);
      base += records;
      assert.ok(size > 0);
    });
  }
});

test('scheduleForFiring leaves what it does not recognise to the general decode', () => {
  const r = rng(7);
  const schedule = randomSchedule(r);
  // A control record (OP header): not a schedule.
  const control = buildRecordBatch([controlInput({ kind: 'cancel', id: 3 }, 1)]);
  assert.equal(scheduleForFiring(control, 0, 0), undefined);
  assert.equal(general(control, 0, 0), null);
  // Compressed: the general path decompresses.
  const gz = buildRecordBatch([schedule], { compression: CODEC_GZIP });
  assert.equal(scheduleForFiring(gz, 0, 0), undefined);
  assert.ok(general(gz, 0, 0) !== null);
  // A control header after the message's own: the general path decodes every header.
  const late: RecordInput = { ...schedule, headers: [{ key: 'TAGS', value: 't' }, ...(schedule.headers ?? [])] };
  const lateBatch = buildRecordBatch([late]);
  assert.equal(scheduleForFiring(lateBatch, 0, 0), undefined);
  const decoded = general(lateBatch, 0, 0);
  assert.ok(decoded !== null && decoded.rawHeaders === null && decoded.headers.some((h) => h.key === 'TAGS'));
  // A number not in plain digits (the general path's Number() accepts it).
  const odd: RecordInput = { ...schedule, headers: (schedule.headers ?? []).map((h) => (h.key === '__delay.at' ? { key: h.key, value: '1e3' } : h)) };
  const oddBatch = buildRecordBatch([odd]);
  assert.equal(scheduleForFiring(oddBatch, 0, 0), undefined);
  assert.equal(general(oddBatch, 0, 0)?.deliverAtMs, 1000);
});
