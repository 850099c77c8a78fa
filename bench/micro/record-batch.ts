// Builds and decodes the batches Diglot writes itself (RocketMQ sends, delay
// schedules and deliveries): one record of a 128-byte body with the headers a
// RocketMQ timer message carries in `__delay`, as Buffers and as strings. ns per record, best of 5 runs.
// `node bench/micro/record-batch.ts [records=200000] [perBatch=1]`
import { buildRecordBatch, buildRecordBatches, readRecords, type RecordInput } from '../../src/storage/records.ts';

const n = Number(process.argv[2] ?? 200_000);
const perBatch = Number(process.argv[3] ?? 1);
const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const record = (i: number): RecordInput => ({
  key: text(`key-${i}`),
  value: Buffer.alloc(128, i & 0xff),
  timestampMs: 1_800_000_000_000 + i,
  headers: [
    { key: '__delay.topic', value: text('DelayRate_mwurm2j3') },
    { key: '__delay.partition', value: text(String(i & 7)) },
    { key: '__delay.at', value: text(String(1_800_000_100_000 + i)) },
    { key: 'UNIQ_KEY', value: text('7F0000010F2C18B4AAC27E3E1A2B0000') },
    { key: 'TIMER_DELIVER_MS', value: text(String(1_800_000_100_000 + i)) },
    { key: 'WAIT', value: text('true') },
    { key: 'TAGS', value: text('TagA') },
  ],
});
const inputs = Array.from({ length: n }, (_, i) => record(i));
// As a RocketMQ send builds them: header values are the property strings (written as UTF-8, no Buffer each).
const withStrings = inputs.map((r) => ({ ...r, headers: r.headers!.map((h) => ({ key: h.key, value: (h.value as Buffer).toString('utf8') })) }));

function best(label: string, run: () => void): void {
  let bestNs = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = process.hrtime.bigint();
    run();
    bestNs = Math.min(bestNs, Number(process.hrtime.bigint() - t) / n);
  }
  console.log(`${label.padEnd(44)} ${bestNs.toFixed(0).padStart(6)} ns/record`);
}

let built: Buffer[] = [];
best(`buildRecordBatch, ${perBatch} record(s) per batch`, () => {
  built = [];
  for (let i = 0; i < n; i += perBatch) built.push(buildRecordBatch(inputs.slice(i, i + perBatch)));
});
best(`buildRecordBatch, string header values`, () => {
  for (let i = 0; i < n; i += perBatch) buildRecordBatch(withStrings.slice(i, i + perBatch));
});
best('buildRecordBatches, one batch per record', () => {
  for (let i = 0; i < n; i += 100) buildRecordBatches(inputs.slice(i, i + 100));
});
best('readRecords', () => {
  for (const b of built) readRecords(b);
});
