import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRecordBatch, buildRecordBatches, buildRecordBatchSized, buildRecordBatchesSized, readRecords, readRecordsFrom, readRecordAt, readRecordAtKeeping, isCompressed } from './records.ts';
import { CODEC_GZIP, CODEC_LZ4, CODEC_NONE, CODEC_SNAPPY, CODEC_ZSTD, decompress } from './compression.ts';
import { validateBatchesForAppend, firstRecordAtOrAfterTimestamp } from './record-batch.ts';
import { LogManager } from './log-manager.ts';
import { StorageError } from './errors.ts';

const CODECS = [CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD];

function sample(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 5 === 4 ? null : Buffer.from(`value-${i}-`.repeat(20)),
    headers: [{ key: 'h', value: Buffer.from(String(i)) }, { key: 'empty', value: null }],
    timestampMs: 1_000_000 + i * 10,
  }));
}

for (const codec of CODECS) {
  test(`codec ${codec}: build, validate and read back records with keys, null values and headers`, () => {
    const records = sample(25);
    const batch = buildRecordBatch(records, { compression: codec });
    assert.equal(isCompressed(batch), codec !== CODEC_NONE);
    assert.equal(validateBatchesForAppend(batch, 1 << 20), 1);
    const read = readRecords(batch);
    assert.equal(read.length, 25);
    read.forEach((r, i) => {
      assert.equal(r.offset, i);
      assert.equal(r.timestampMs, records[i]!.timestampMs);
      assert.deepEqual(r.key, records[i]!.key);
      assert.deepEqual(r.value, records[i]!.value);
      assert.deepEqual(r.headers, records[i]!.headers);
    });
    assert.deepEqual(firstRecordAtOrAfterTimestamp(batch, 0, 1_000_105), { offset: 11, timestampMs: 1_000_110 });
    assert.equal(firstRecordAtOrAfterTimestamp(batch, 0, 2_000_000), null);
  });
}

test('ListOffsets by time is exact inside compressed batches stored in the log', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-comp-'));
  try {
    const manager = await LogManager.open({ dir });
    const log = manager.getOrCreate('c', 0);
    for (const codec of CODECS) log.append(buildRecordBatch(sample(10).map((r, i) => ({ ...r, timestampMs: 5_000 * codec + i })), { compression: codec }));
    assert.deepEqual(log.offsetForTimestamp(5_000 * CODEC_LZ4 + 3), { offset: 10 * CODEC_LZ4 + 3, timestampMs: 5_000 * CODEC_LZ4 + 3 });
    assert.deepEqual(log.offsetForTimestamp(5_000 * CODEC_ZSTD + 9), { offset: 10 * CODEC_ZSTD + 9, timestampMs: 5_000 * CODEC_ZSTD + 9 });
    await manager.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt and oversized payloads fail with a StorageError, never a crash', () => {
  for (const codec of [CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD]) {
    assert.throws(() => decompress(codec, Buffer.from('not compressed at all')), (e: unknown) => e instanceof StorageError && e.code === 'BATCH_RECORDS_INVALID');
  }
  assert.throws(() => decompress(9, Buffer.alloc(4)), StorageError);
});

test('readRecordsFrom / readRecordAt: skip records before the offset undecoded, stop after the count, compressed too', () => {
  const inputs = Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: [{ key: 'h', value: Buffer.from(String(i)) }], timestampMs: 1000 + i }));
  for (const compression of [0, 1]) {
    const batch = buildRecordBatch(inputs, { compression });
    batch.writeBigInt64BE(100n, 0); // base offset 100, as the log assigns it
    assert.deepEqual(readRecordsFrom(batch, 0, 103, 4).map((r) => r.offset), [103, 104, 105, 106]);
    assert.deepEqual(readRecordsFrom(batch, 0, 108, 5).map((r) => r.value!.toString()), ['v8', 'v9']);
    assert.deepEqual(readRecordsFrom(batch, 0, 0, Infinity), readRecords(batch, 0));
    assert.equal(readRecordsFrom(batch, 0, 110, 3).length, 0);
    assert.equal(readRecordAt(batch, 0, 107)!.headers[0]!.value!.toString(), '7');
    assert.equal(readRecordAt(batch, 0, 99), null);
  }
});

test('header keys: ASCII, non-ASCII, longer than the short-key path, and more headers than the reused length table', () => {
  const keys = ['TAGS', 'clé-é', '键', 'k'.repeat(65), 'é'.repeat(40), '', '\u{1F600}x'];
  const many = Array.from({ length: 150 }, (_, i) => ({ key: i % 2 === 0 ? `h${i}` : `ü${i}`, value: Buffer.from(String(i)) }));
  const records = [
    { key: null, value: Buffer.from('v0'), headers: keys.map((key, i) => ({ key, value: i === 5 ? null : Buffer.from(key) })), timestampMs: 5 },
    { key: Buffer.from('k1'), value: null, headers: many, timestampMs: 7 },
    { key: null, value: Buffer.from('v2'), headers: [{ key: 'après', value: Buffer.from('x') }], timestampMs: 6 },
  ];
  const batch = buildRecordBatch(records);
  assert.equal(validateBatchesForAppend(batch, 1 << 20), 1);
  const read = readRecords(batch);
  assert.deepEqual(read[0]!.headers.map((h) => h.key), keys);
  assert.equal(read[0]!.headers[5]!.value, null);
  assert.deepEqual(read[1]!.headers.map((h) => h.key), many.map((h) => h.key));
  assert.deepEqual(read[1]!.headers.map((h) => h.value!.toString()), many.map((h) => h.value.toString()));
  assert.equal(read[2]!.headers[0]!.key, 'après');
  assert.deepEqual(read.map((r) => r.timestampMs), [5, 7, 6]);
});

test('buildRecordBatches: one batch per record, byte for byte what buildRecordBatch of each would give', () => {
  const records = sample(12).map((r, i) => (i === 3 ? { ...r, headers: [{ key: 'é'.repeat(70), value: Buffer.from('long') }] } : r));
  const joined = buildRecordBatches(records);
  assert.deepEqual(joined, Buffer.concat(records.map((r) => buildRecordBatch([r]))));
  assert.equal(validateBatchesForAppend(joined, 1 << 20), records.length);
  const opts = { producerId: 42, producerEpoch: 3, baseSequence: 9, attributes: 0x10 };
  assert.deepEqual(buildRecordBatches(records, opts), Buffer.concat(records.map((r) => buildRecordBatch([r], opts))));
  assert.throws(() => buildRecordBatches([]), StorageError);
  assert.throws(() => buildRecordBatches(records, { compression: CODEC_GZIP }), /uncompressed/);
});

test('string header values are written as their UTF-8 bytes, byte for byte as Buffer values', () => {
  const values = ['TagA', '', 'é', '键值', 'x'.repeat(65), 'ü'.repeat(33), '7F0000010F2C18B4AAC27E3E1A2B0000'];
  const asText = [{ key: null, value: Buffer.from('v'), headers: values.map((v, i) => ({ key: `k${i}`, value: v })), timestampMs: 9 }];
  const asBytes = [{ key: null, value: Buffer.from('v'), headers: values.map((v, i) => ({ key: `k${i}`, value: Buffer.from(v, 'utf8') })), timestampMs: 9 }];
  assert.deepEqual(buildRecordBatch(asText), buildRecordBatch(asBytes));
  assert.deepEqual(buildRecordBatches([...asText, ...asText]), buildRecordBatches([...asBytes, ...asBytes]));
  assert.deepEqual(readRecords(buildRecordBatch(asText))[0]!.headers.map((h) => h.value!.toString('utf8')), values);
});

test('readRecordAtKeeping: headers of the prefix decoded, the run after them kept encoded and copied verbatim into another record', () => {
  const prefix = Buffer.from('__c.');
  const own = [
    { key: 'UNIQ_KEY', value: 'AC11' },
    { key: 'é键', value: Buffer.from('ü') },
    { key: 'n', value: null },
    { key: '', value: 'x'.repeat(70) },
  ];
  const control = [
    { key: '__c.topic', value: 't' },
    { key: '__c.at', value: '123' },
  ];
  for (const compression of [CODEC_NONE, CODEC_LZ4]) {
    const batch = buildRecordBatch([{ key: null, value: Buffer.from('skip'), timestampMs: 1 }, { key: Buffer.from('k'), value: Buffer.from('v'), headers: [...control, ...own], timestampMs: 2 }], { compression });
    batch.writeBigInt64BE(40n, 0);
    const kept = readRecordAtKeeping(batch, 0, 41, prefix)!;
    assert.deepEqual(kept.headers.map((h) => [h.key, h.value!.toString()]), [['__c.topic', 't'], ['__c.at', '123']]);
    assert.equal(kept.rawHeaders!.count, own.length);
    assert.equal(kept.key!.toString(), 'k');
    assert.equal(kept.timestampMs, 2);
    // Copied into a new record after two headers of its own: the same headers, in order, as a full decode gives.
    const copy = buildRecordBatch([{ key: kept.key, value: kept.value, rawHeaders: kept.rawHeaders!, headers: [{ key: 'id', value: '7' }], timestampMs: 3 }]);
    assert.equal(validateBatchesForAppend(copy, 1 << 20), 1);
    const back = readRecords(copy)[0]!;
    const full = readRecordAt(batch, 0, 41)!;
    assert.deepEqual(back.headers, [...full.headers.slice(control.length), { key: 'id', value: Buffer.from('7') }]);
    assert.equal(back.value!.toString(), 'v');
    // A record with no headers of either kind.
    const bare = readRecordAtKeeping(batch, 0, 40, prefix)!;
    assert.deepEqual([bare.headers, bare.rawHeaders!.count, bare.rawHeaders!.bytes.length], [[], 0, 0]);
  }
  // A prefixed header after a kept one: not one run, so every header is decoded and none kept.
  const mixed = buildRecordBatch([{ key: null, value: null, headers: [control[0]!, own[0]!, control[1]!], timestampMs: 1 }]);
  const all = readRecordAtKeeping(mixed, 0, 0, prefix)!;
  assert.equal(all.rawHeaders, undefined);
  assert.deepEqual(all.headers.map((h) => h.key), ['__c.topic', 'UNIQ_KEY', '__c.at']);
  // A key shorter than the prefix, and one that only shares its start, are kept.
  const near = buildRecordBatch([{ key: null, value: null, headers: [control[0]!, { key: '__c', value: 'a' }, { key: '__cX', value: 'b' }], timestampMs: 1 }]);
  assert.equal(readRecordAtKeeping(near, 0, 0, prefix)!.rawHeaders!.count, 2);
});

test('one-pass building (small batches, through the scratch) gives byte for byte what sizing first gives, and reads back as written', () => {
  // Deterministic pseudo-random records around every length boundary: strings of 63/64/65 units, non-ASCII at
  // the start, middle and end, bodies whose length varint is 1, 2 or 3 bytes (the body moves back when shorter).
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const texts = ['', 'a', 'TAGS', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'é', 'aé', 'é'.repeat(63), `${'a'.repeat(62)}é`, '键值', '\u0000\u007f\u0080', '😀'];
  const text = (): string => (rnd(4) === 0 ? 'q'.repeat(rnd(200)) : texts[rnd(texts.length)]!);
  const bytes = (): Buffer | null => (rnd(5) === 0 ? null : Buffer.alloc([0, 1, 20, 40, 60, 8100, 8200, 20_000][rnd(8)]!, rnd(256)));
  for (let round = 0; round < 300; round++) {
    const records = Array.from({ length: 1 + rnd(4) }, (_, i) => ({
      key: bytes(),
      value: bytes(),
      headers: Array.from({ length: rnd(6) }, () => ({ key: text(), value: rnd(3) === 0 ? bytes() : text() })),
      timestampMs: 1_700_000_000_000 + (rnd(2) === 0 ? -1 : 1) * rnd(100_000) + i,
    }));
    const opts = rnd(2) === 0 ? undefined : { producerId: rnd(1000), producerEpoch: rnd(10), baseSequence: rnd(100), attributes: 0x10 };
    const onePass = buildRecordBatch(records, opts);
    assert.deepEqual(onePass, buildRecordBatchSized(records, opts), `round ${round}`);
    assert.deepEqual(buildRecordBatches(records, opts), buildRecordBatchesSized(records, opts), `round ${round}`);
    assert.equal(validateBatchesForAppend(onePass, 1 << 22), 1);
    const read = readRecords(onePass);
    assert.equal(read.length, records.length);
    read.forEach((r, i) => {
      const w = records[i]!;
      assert.deepEqual([r.key, r.value, r.timestampMs], [w.key, w.value, w.timestampMs], `round ${round} record ${i}`);
      assert.deepEqual(
        r.headers.map((h) => [h.key, h.value]),
        w.headers.map((h) => [h.key, typeof h.value === 'string' ? Buffer.from(h.value, 'utf8') : h.value]),
        `round ${round} record ${i}`,
      );
    });
  }
  // Past the scratch's bound the sized path builds it: the same bytes either way.
  const big = [{ key: null, value: Buffer.alloc(1_100_000, 7), headers: [{ key: 'k', value: 'v' }], timestampMs: 5 }];
  assert.deepEqual(buildRecordBatch(big), buildRecordBatchSized(big));
});
