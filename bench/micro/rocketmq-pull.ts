// In-process cost of answering RocketMQ pulls (no network): records stored as a RocketMQ send stores them
// (1 KiB bodies, the producer's properties as headers), read back 32 at a time and encoded as stored messages
// — the work PULL_MESSAGE does per answer. Prints µs per message for decoding the records and for encoding
// the answer, and the whole.
// `node bench/micro/rocketmq-pull.ts [messages, default 200000] [bodyBytes, default 1024] [rounds, default 5] [kept|decoded]`:
// `kept` (default) is what a pull with a match-all filter does (headers copied as bytes), `decoded` what a
// filtered pull does (every header decoded).
import { INTERNAL_HEADER_PREFIX, toRecord } from '../../src/broker/rocketmq-mapping.ts';
import type { Topic } from '../../src/broker/topics.ts';
import { encodeMessages } from '../../src/rocketmq/messages.ts';
import { buildRecordBatch, forEachBatch, readRecordsFrom, readRecordsFromKeeping, type DecodedRecord } from '../../src/storage/records.ts';

const n = Number(process.argv[2] ?? 200_000);
const bodyBytes = Number(process.argv[3] ?? 1024);
const rounds = Number(process.argv[4] ?? 5);
const mode = process.argv[5] ?? 'kept';
if (mode !== 'kept' && mode !== 'decoded') throw new Error(`mode ${mode}: kept or decoded`);
const prefix = Buffer.from(INTERNAL_HEADER_PREFIX, 'latin1');
const PULL = 32;
// As the benchmark Producer's messages arrive (rocketmq-example Producer: keys, tags, UNIQ_KEY, WAIT).
const props = (i: number): Array<[string, string]> => [
  ['KEYS', `key-${i}`],
  ['TAGS', 'TagA'],
  ['UNIQ_KEY', `7F000001000018B4AAC2${(1e11 + i).toString(16).toUpperCase()}`],
  ['WAIT', 'true'],
];
const body = Buffer.alloc(bodyBytes, 0x61);
// One batch per send, as a RocketMQ send is stored.
const batches: Buffer[] = [];
for (let i = 0; i < n; i++) {
  const b = buildRecordBatch([toRecord({ body, properties: props(i), flag: 0, bornTimestampMs: 1_800_000_000_000 + i, reconsumeTimes: 0 })]);
  b.writeBigInt64BE(BigInt(i), 0); // baseOffset
  batches.push(b);
}
// Reads hand the handler 64 KiB of consecutive batches.
const chunks: Buffer[] = [];
for (let i = 0; i < n; ) {
  const group: Buffer[] = [];
  let bytes = 0;
  while (i < n && bytes + batches[i]!.length <= 64 * 1024) {
    bytes += batches[i]!.length;
    group.push(batches[i++]!);
  }
  chunks.push(Buffer.concat(group));
}
const topic = { name: 'BenchTopic', id: '00000000-0000-0000-0000-000000000000', partitions: 8, configs: new Map(), internal: false, ordinal: 3 } as unknown as Topic;
const storeHost = Buffer.from([127, 0, 0, 1, 0, 0, 0x26, 0x94]);

for (let round = 0; round < rounds; round++) {
  let decodeNs = 0n;
  let encodeNs = 0n;
  let messages = 0;
  let bytesOut = 0;
  for (const chunk of chunks) {
    let pending: DecodedRecord[] = [];
    const flush = (): void => {
      const t = process.hrtime.bigint();
      bytesOut += encodeMessages(storeHost, topic, 0, pending).length;
      encodeNs += process.hrtime.bigint() - t;
      messages += pending.length;
      pending = [];
    };
    forEachBatch(chunk, (pos) => {
      const t = process.hrtime.bigint();
      const records = mode === 'kept' ? readRecordsFromKeeping(chunk, pos, 0, PULL + 1, prefix) : readRecordsFrom(chunk, pos, 0, PULL + 1);
      decodeNs += process.hrtime.bigint() - t;
      for (const r of records) pending.push(r);
      if (pending.length >= PULL) flush();
    });
    if (pending.length > 0) flush();
  }
  const us = (ns: bigint): number => Number(ns) / 1000 / messages;
  console.log(JSON.stringify({ round, mode, messages, bodyBytes, decodeUsPerMessage: +us(decodeNs).toFixed(3), encodeUsPerMessage: +us(encodeNs).toFixed(3), totalUsPerMessage: +us(decodeNs + encodeNs).toFixed(3), bytesOut }));
}
