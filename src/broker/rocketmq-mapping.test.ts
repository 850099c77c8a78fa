import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRecordBatch, readRecords, readRecordsFromKeeping } from '../storage/records.ts';
import { fromRecord, INTERNAL_HEADER_PREFIX, recordWireProperties, toRecord } from './rocketmq-mapping.ts';
import { decodeProperties, encodeProperties } from '../protocol/rocketmq/properties.ts';

// Keys and values as RocketMQ allows them: no 0x01/0x02 separators.
const text = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '✓', ' ', '中'), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 12 }).filter((s) => !/[\u0001\u0002]/.test(s));
// Values past 63 bytes have two-byte varint lengths in a record: kept headers then take the general path.
const value = fc.oneof(text, fc.string({ minLength: 40, maxLength: 90 }).filter((s) => !/[\u0001\u0002]/.test(s)));

test('a RocketMQ message survives the trip through a stored record (body, KEYS, properties in order, flag, reconsume times)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.option(text.filter((s) => s.length > 0), { nil: undefined }),
      fc.uniqueArray(fc.tuple(text.filter((s) => s.length > 0 && s !== 'KEYS' && !s.startsWith('__rmq.')), value), { selector: ([k]) => k, maxLength: 6 }),
      fc.integer({ min: -5, max: 5 }),
      fc.nat(20),
      (body, keys, props, flag, reconsumeTimes) => {
        const properties: Array<[string, string]> = [...props];
        if (keys !== undefined) properties.unshift(['KEYS', keys]);
        const record = readRecords(buildRecordBatch([toRecord({ body: Buffer.from(body), properties, flag, bornTimestampMs: 1234, reconsumeTimes })]))[0]!;
        const back = fromRecord(record);
        assert.deepEqual(back.body, Buffer.from(body));
        assert.deepEqual(back.properties, properties);
        assert.equal(back.flag, flag);
        assert.equal(back.reconsumeTimes, reconsumeTimes);
        // The pull path's direct encoding is byte-identical to encoding the decoded properties.
        const wire = recordWireProperties(record);
        assert.deepEqual(wire.properties, Buffer.from(encodeProperties(back.properties), 'utf8'));
        assert.equal(wire.flag, flag);
        assert.equal(wire.reconsumeTimes, reconsumeTimes);
        assert.deepEqual([...decodeProperties(wire.properties.toString('utf8'))], properties.filter(([k]) => k.length > 0));
        // A match-all pull keeps the headers encoded (only `__rmq.*` decoded): the same bytes, flag and count.
        const batch = buildRecordBatch([toRecord({ body: Buffer.from(body), properties, flag, bornTimestampMs: 1234, reconsumeTimes })]);
        const kept = readRecordsFromKeeping(batch, 0, 0, 2, Buffer.from(INTERNAL_HEADER_PREFIX, 'latin1'))[0]!;
        // Kept raw unless an internal header follows the others (toRecord puts them last): then all are decoded.
        const internalAfterOthers = (flag !== 0 || reconsumeTimes !== 0) && props.length > 0;
        assert.equal(kept.rawHeaders !== undefined, !internalAfterOthers);
        const keptWire = recordWireProperties(kept);
        assert.deepEqual(keptWire.properties, wire.properties);
        assert.equal(keptWire.flag, flag);
        assert.equal(keptWire.reconsumeTimes, reconsumeTimes);
      },
    ),
    { numRuns: 300 },
  );
});

test('kept headers (a Kafka record, internal headers first, a null value, a multi-byte key) give the properties decoding gives', () => {
  const batch = buildRecordBatch([
    {
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: [
        { key: '__rmq.flag', value: '7' },
        { key: 'TAGS', value: Buffer.from('TagA') },
        { key: 'né', value: null },
        { key: 'h', value: Buffer.from('✓') },
      ],
      timestampMs: 5,
    },
  ]);
  const kept = readRecordsFromKeeping(batch, 0, 0, 1, Buffer.from(INTERNAL_HEADER_PREFIX, 'latin1'))[0]!;
  assert.equal(kept.rawHeaders?.count, 3);
  assert.deepEqual(kept.headers.map((h) => h.key), ['__rmq.flag']);
  const wire = recordWireProperties(kept);
  assert.deepEqual(wire, recordWireProperties(readRecords(batch)[0]!));
  assert.equal(wire.flag, 7);
  assert.deepEqual([...decodeProperties(wire.properties.toString('utf8'))], [['KEYS', 'k'], ['TAGS', 'TagA'], ['né', ''], ['h', '✓']]);
  assert.throws(() => fromRecord(kept), /every header decoded/);
});

test('a Kafka record reads as a RocketMQ message: value → body, key → KEYS, headers → properties', () => {
  const batch = buildRecordBatch([{ key: Buffer.from('order-1'), value: Buffer.from('v'), headers: [{ key: 'TAGS', value: Buffer.from('TagA') }, { key: 'h', value: null }], timestampMs: 5 }]);
  const m = fromRecord(readRecords(batch)[0]!);
  assert.deepEqual(m.properties, [['KEYS', 'order-1'], ['TAGS', 'TagA'], ['h', '']]);
  assert.equal(m.body.toString(), 'v');
});
