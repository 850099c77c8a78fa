import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOffsetMsgId, offsetMsgId, packLocation, packedOffsetString, parsePackedOffset, socketAddressBytes, unpackLocation } from './message-id.ts';

test('compact ids stay below 2^53, so a JavaScript client can send them back exactly', () => {
  for (const [topic, queue, offset] of [
    [0, 0, 0],
    [16383, 127, 2 ** 32 - 1],
    [20000, 5, 123456789],
  ] as const) {
    const text = packedOffsetString(topic, queue, offset);
    const value = BigInt(text);
    assert.ok(value >= 0n && value < 2n ** 53n, `${text} fits a double`);
    // A JS client round-trips it through a Number.
    const loc = parsePackedOffset(String(Number(text)))!;
    assert.deepEqual(loc, { topicBits: 14, topicNumber: topic % 16384, queueId: queue, queueOffset: offset });
  }
});

test('wide ids carry large queues and offsets (negative as a Java long)', () => {
  const text = packedOffsetString(70000, 4095, 2 ** 35 - 1);
  assert.ok(BigInt(text) < 0n);
  assert.deepEqual(parsePackedOffset(text), { topicBits: 16, topicNumber: 70000 % 65536, queueId: 4095, queueOffset: 2 ** 35 - 1 });
  const { high, low } = packLocation(3, 200, 7);
  assert.deepEqual(unpackLocation(high, low), { topicBits: 16, topicNumber: 3, queueId: 200, queueOffset: 7 });
});

test('offsetMsgId: store address and location round-trip; garbage is refused', () => {
  const { high, low } = packLocation(42, 3, 99);
  const id = offsetMsgId(socketAddressBytes('127.0.0.1', 10911), high, low);
  assert.equal(id.length, 32);
  assert.ok(id.startsWith('7F00000100002A9F'));
  const d = decodeOffsetMsgId(id)!;
  assert.equal(d.host, '127.0.0.1');
  assert.equal(d.port, 10911);
  assert.deepEqual(d.location, { topicBits: 14, topicNumber: 42, queueId: 3, queueOffset: 99 });
  assert.equal(decodeOffsetMsgId('XYZ'), null);
  assert.equal(parsePackedOffset('not a number'), null);
});
